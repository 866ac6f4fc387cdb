// Unit tests of the views' DOM-free helpers: colour scales, number formats, the attention
// pattern's grid and DLA's per-layer totals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { autoRange, colourOf, formatNumber } from "../colour";
import { patternGrid } from "../attention_pattern";
import { layerTotals } from "../dla";
import { headGrid } from "../adapters/grid";
import { showToken } from "../adapters/ids";

test("the diverging scale is white at 0, blue above, red below, saturating at the range", () => {
  assert.deepEqual(colourOf(0, "diverging", 1), [255, 255, 255]);
  const up = colourOf(1, "diverging", 1);
  const down = colourOf(-1, "diverging", 1);
  assert.ok(up[2] > up[0], "positive is blue");
  assert.ok(down[0] > down[2], "negative is red");
  assert.deepEqual(colourOf(5, "diverging", 1), up);
  assert.deepEqual(colourOf(NaN, "sequential", 1), [221, 221, 221]);
  assert.deepEqual(colourOf(-3, "sequential", 1), [255, 255, 255]);
  assert.equal(autoRange(new Float32Array([0.2, -0.7, NaN]), "diverging"), Math.fround(0.7));
  assert.equal(autoRange(new Float32Array([0, 0]), "sequential"), 1);
});

test("numbers read well", () => {
  assert.equal(formatNumber(0.5523), "0.5523");
  assert.equal(formatNumber(-0.000139), "-1.39e-4");
  assert.equal(formatNumber(1234567), "1.23e+6");
  assert.equal(formatNumber(3), "3");
  assert.equal(formatNumber(null), "—");
  assert.equal(showToken(" Mary\n"), "·Mary↵");
});

test("an attention grid is one row's [q, k] block, cut to the prompt's tokens", () => {
  // rows 2, q 3, k 3; value = 100 r + 10 q + k.
  const data = new Float32Array(18);
  for (let r = 0; r < 2; r++) for (let q = 0; q < 3; q++) for (let k = 0; k < 3; k++) data[(r * 3 + q) * 3 + k] = 100 * r + 10 * q + k;
  const full = patternGrid({ layer: 0, head: 0, pattern: { data, shape: [2, 3, 3] }, tokens: null }, 1);
  assert.equal(full.rows, 3);
  assert.deepEqual(Array.from(full.values), [100, 101, 102, 110, 111, 112, 120, 121, 122]);
  const cut = patternGrid({ layer: 0, head: 0, pattern: { data, shape: [2, 3, 3] }, tokens: [["a", "b", "c"], ["<bos>", " x"]] }, 1);
  assert.equal(cut.rows, 2);
  assert.deepEqual(Array.from(cut.values), [100, 101, 110, 111]);
  assert.deepEqual(cut.colLabels, ["0 <bos>", "1 ·x"]);
});

test("DLA per-layer totals add a layer's heads, skipping heads without a value", () => {
  const heads = headGrid({ "a0.h0": 1, "a0.h1": 2, "a1.h0": -0.5 }, 2, 2);
  const totals = layerTotals({ name: "d", metric: "m", heads, mlps: null, input: null, bias: null, logit: null });
  assert.deepEqual(Array.from(totals), [3, -0.5]);
});
