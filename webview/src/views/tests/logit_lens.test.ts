// Unit tests of the per-position logit lens: the adapter reading top_tokens, top_probs and the
// analysis's token_text, and the DOM-free helpers of lens_grid.ts (one prompt's cells, labels,
// tooltips).
import { test } from "node:test";
import assert from "node:assert/strict";
import { logitLensFromResults } from "../adapters/lens";
import { clipToken, lensCellTooltip, lensPromptCount, lensPromptGrid, predictedText, promptLabel } from "../lens_grid";
import type { ResultsDocument, Tensor } from "../types";

// 2 layers, 2 prompts ("ab", "xyz" after BOS), 4 positions; prompt 0 is one token shorter.
const TOKENS: Tensor = {
  shape: [2, 2, 4],
  data: new Float32Array([
    // layer 0: prompt 0, prompt 1
    97, 98, 99, -1, 120, 121, 122, 10,
    // layer 1
    98, 99, 100, -1, 121, 122, 32, 0,
  ]),
};
const PROBS: Tensor = {
  shape: [2, 2, 4],
  data: new Float32Array([0.1, 0.2, 0.3, NaN, 0.4, 0.5, 0.6, 0.7, 0.15, 0.25, 0.35, NaN, 0.45, 0.55, 0.65, 0.75]),
};

const results = {
  format: "circuitry.results",
  version: 1,
  source: "x.circuit",
  model: { name: "toy", family: "attn-only", n_layers: 2, n_heads: 4 },
  batches: { seq: { tokens: [["<|bos|>", "a", "b"], ["<|bos|>", "x", "y", "z"]] } },
  experiments: [
    {
      name: "lens",
      kind: "logit_lens",
      batches: ["seq"],
      analyses: [
        {
          name: "lens",
          kind: "logit_lens",
          values: { model: -0.5 },
          tensors: { metric: [2], top_tokens: [2, 2, 4], top_probs: [2, 2, 4] },
          token_text: { "0": "<|bos|>", "10": "\n", "32": " ", "97": "a", "98": "b", "99": "c", "100": "d", "120": "x", "121": "y", "122": "z" },
        },
      ],
    },
  ],
} as unknown as ResultsDocument;

const metric: Tensor = { shape: [2], data: new Float32Array([-2, -0.5]) };

test("the adapter keeps the per-position lens with the ids' text and the prompts' tokens", () => {
  const lens = logitLensFromResults(results, "lens", metric, null, { tokens: TOKENS, probs: PROBS });
  assert.equal(lens.modelValue, -0.5);
  const p = lens.positions!;
  assert.ok(p, "positions kept");
  assert.equal(lensPromptCount(p), 2);
  assert.equal(predictedText(p, 122), "z");
  assert.equal(predictedText(p, 7), "#7");
  assert.deepEqual(p.prompts?.[1], ["<|bos|>", "x", "y", "z"]);
  // Without the tensors, or with mismatched shapes, there is no per-position lens.
  assert.equal(logitLensFromResults(results, "lens", metric, null).positions, null);
  const wrong = { tokens: TOKENS, probs: { shape: [2, 2, 3], data: new Float32Array(12) } };
  assert.equal(logitLensFromResults(results, "lens", metric, null, wrong).positions, null);
  // A lens without a metric: no per-layer values, the grid still.
  const bare = logitLensFromResults(results, "lens", null, null, { tokens: TOKENS, probs: PROBS });
  assert.equal(bare.perLayer.length, 0);
  assert.ok(bare.positions);
});

test("one prompt's grid is cut to its real tokens, layer 0 first", () => {
  const p = logitLensFromResults(results, "lens", metric, null, { tokens: TOKENS, probs: PROBS }).positions!;
  const short = lensPromptGrid(p, 0);
  assert.equal(short.layers, 2);
  assert.equal(short.positions, 3); // the -1 padding cell is left out
  assert.deepEqual(Array.from(short.ids), [97, 98, 99, 98, 99, 100]);
  assert.deepEqual(short.texts, ["a", "b", "c", "b", "c", "d"]);
  assert.deepEqual(short.inputs, ["<|bos|>", "a", "b"]);
  assert.ok(Math.abs(short.probs[5] - 0.35) < 1e-6);
  const long = lensPromptGrid(p, 1);
  assert.equal(long.positions, 4);
  assert.deepEqual(long.texts.slice(4), ["y", "z", " ", "<|bos|>"]);
  assert.throws(() => lensPromptGrid(p, 2), /prompt 2/);
});

test("cells read as the logit lens is described: layer, position, input token, prediction, p", () => {
  const p = logitLensFromResults(results, "lens", metric, null, { tokens: TOKENS, probs: PROBS }).positions!;
  const g = lensPromptGrid(p, 1);
  assert.equal(lensCellTooltip(g, 1, 2), "layer 1, position 2 'y': predicts '·' (p = 0.65)");
  assert.equal(lensCellTooltip(g, 0, 3), "layer 0, position 3 'z': predicts '↵' (p = 0.7)");
  // Without token strings in results.json the input token is left out.
  const bare = lensPromptGrid({ ...p, prompts: null }, 0);
  assert.equal(lensCellTooltip(bare, 0, 0), "layer 0, position 0: predicts 'a' (p = 0.1)");
  assert.equal(promptLabel(p, 1), "1: <|bos|>xyz");
  assert.equal(promptLabel({ ...p, prompts: null }, 1), "1");
});

test("predicted tokens are clipped to a cell with visible whitespace", () => {
  assert.equal(clipToken(" Mary", 8), "·Mary");
  assert.equal(clipToken(" Christopher", 6), "·Chri…");
  assert.equal(clipToken("abc", 0), "");
  assert.equal(clipToken("abcdef", 1), "…");
});
