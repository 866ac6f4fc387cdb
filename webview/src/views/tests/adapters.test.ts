// Unit tests of the views' adapters (adapters/) on real `circuit run` output (fixtures/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { attentionFromTensor, findPatterns, headSlot, headsWithPatterns } from "../adapters/attention";
import { claimsFromResults, provenanceFromDocuments } from "../adapters/claims";
import { graphFromCircuitDocument, graphFromEdgeScores, graphFromResults } from "../adapters/circuit_graph";
import { experimentTokens } from "../adapters/experiments";
import { gridFromTensor, headGrid, rankHeads } from "../adapters/grid";
import { parseEdgeId, parseLocation, parseNodeId } from "../adapters/ids";
import { detectorsFromResults, dlaFromResults, logitLensFromResults } from "../adapters/lens";
import { patchingFromExperiment } from "../adapters/patching";
import { viewIndex } from "../adapters/view_index";
import type { CircuitDocument, ResultsDocument, ResultsExperiment } from "../types";
import resultsJson from "./fixtures/induction_results.json";
import circuitJson from "./fixtures/induction_circuit.json";
import ioiJson from "./fixtures/ioi_head_effects.json";

const results = resultsJson as unknown as ResultsDocument;
const circuit = circuitJson as unknown as CircuitDocument;
const ioi = ioiJson as unknown as { model: ResultsDocument["model"]; experiment: ResultsExperiment };

test("node, edge and location ids parse", () => {
  assert.deepEqual(parseNodeId("a12.h7"), { id: "a12.h7", kind: "attention", layer: 12, head: 7 });
  assert.deepEqual(parseNodeId("m3"), { id: "m3", kind: "mlp", layer: 3, head: null });
  assert.equal(parseNodeId("input").kind, "input");
  assert.equal(parseNodeId("logits").kind, "logits");
  assert.deepEqual(parseNodeId("resid5"), { id: "resid5", kind: "other", layer: 5, head: null });
  assert.deepEqual(parseEdgeId("a0.h1->a1.h2<k>"), { source: "a0.h1", target: "a1.h2", input: "k" });
  assert.deepEqual(parseEdgeId("m0->logits"), { source: "m0", target: "logits", input: null });
  assert.equal(parseEdgeId("nonsense"), null);
  assert.deepEqual(parseLocation("examples/a:b.circuit:31:7"), { file: "examples/a:b.circuit", line: 31, col: 7 });
  assert.equal(parseLocation("no place"), null);
});

test("headGrid puts each head's score at layer * n_heads + head, NaN where missing", () => {
  const g = headGrid({ "a1.h3": 0.5, "a0.h0": -1, m0: 7, "a9.h0": 3 }, 2, 4);
  assert.equal(g.values.length, 8);
  assert.equal(g.values[1 * 4 + 3], 0.5);
  assert.equal(g.values[0], -1);
  assert.ok(Number.isNaN(g.values[1]));
  assert.deepEqual(g.cellNode?.(1, 3), { id: "a1.h3", kind: "attention", layer: 1, head: 3 });
});

test("gridFromTensor checks the shape", () => {
  const g = gridFromTensor({ data: new Float32Array(6), shape: [2, 3] }, "layer", "prompt");
  assert.equal(g.rows, 2);
  assert.equal(g.cols, 3);
  assert.equal(g.cellNode, null);
  assert.throws(() => gridFromTensor({ data: new Float32Array(5), shape: [2, 3] }, "layer", "head"), /does not match/);
});

test("the induction run's detectors: head 0.0 is the previous-token head, 1.0 the best induction head", () => {
  const d = detectorsFromResults(results);
  assert.deepEqual(
    d.detectors.map((x) => x.kind),
    ["previous_token_score", "induction_score", "duplicate_token_score", "copying_score"],
  );
  const prev = d.detectors[0];
  assert.equal(rankHeads(prev.grid, 1)[0].node.id, "a0.h0");
  const ind = rankHeads(d.detectors[1].grid, 3).map((r) => r.node.id);
  assert.deepEqual(ind, ["a1.h0", "a1.h3", "a1.h1"]);
  assert.equal(d.detectors[1].grid.values[4], results.scores!.ind_scores["a1.h0"]);
});

test("DLA of the induction run comes from its nodes, with the embeddings and biases", () => {
  const dla = dlaFromResults(results, "dla_scores")!;
  assert.equal(dla.heads.rows, 2);
  assert.equal(dla.heads.cols, 4);
  assert.equal(dla.mlps, null); // attention-only model
  const a13 = dla.heads.values[1 * 4 + 3];
  assert.ok(a13 > 2, `a1.h3 writes the answer (${a13})`);
  assert.equal(typeof dla.bias, "number");
  assert.equal(dlaFromResults(results, "no_such"), null);
});

test("logit lens from its tensors", () => {
  const metric = { data: new Float32Array([-4.6, -0.14]), shape: [2] };
  const perRow = { data: new Float32Array(64), shape: [2, 32] };
  const lens = logitLensFromResults(results, "lens", metric, perRow);
  assert.equal(lens.perLayer.length, 2);
  assert.ok(lens.modelValue !== null && Math.abs(lens.modelValue - -0.1397) < 1e-3);
  assert.equal(lens.grid?.cols, 32);
  assert.equal(lens.grid?.colAxis, "prompt");
});

test("the EAP circuit's graph holds every scored edge and marks the circuit's", () => {
  const g = graphFromResults(results, "eap_circuit")!;
  const analysis = results.experiments.find((e) => e.name === "eap_circuit")!.analyses![0];
  assert.equal(g.edges.length, Object.keys(analysis.edges!).length);
  assert.equal(g.edges.filter((e) => e.inCircuit).length, analysis.circuit!.length);
  const k = g.edges.find((e) => e.id === "a0.h0->a1.h3<k>")!;
  assert.equal(k.input, "k");
  assert.equal(k.source, "a0.h0");
  assert.ok(k.inCircuit);
  assert.equal(g.nLayers, 2);
  assert.equal(g.nHeads, 4);
  // Node scores come from results.json's scores, as circuit.json's do (the largest in magnitude).
  assert.equal(g.nodes.find((n) => n.id === "a0.h0")!.score, circuit.nodes.find((n) => n.id === "a0.h0")!.score);
  assert.ok(g.nodes.some((n) => n.score !== null));
  assert.equal(graphFromResults(results, "nothing"), null);
});

test("the interchange document's graph", () => {
  const g = graphFromCircuitDocument(circuit);
  assert.equal(g.title, circuit.name);
  assert.equal(g.edges.length, circuit.edges.length);
  for (const e of g.edges) {
    assert.ok(g.nodes.some((n) => n.id === e.source), e.source);
    assert.ok(g.nodes.some((n) => n.id === e.target), e.target);
  }
  assert.ok(g.nodes.some((n) => n.kind === "input"));
  assert.ok(g.nodes.some((n) => n.kind === "logits"));
});

test("attention patterns: where each head is saved, and one head's slice", () => {
  const where = findPatterns(results, 1, 2);
  assert.equal(where.length, 1);
  assert.equal(where[0].tensor, "patterns/blocks.1.attn.hook_pattern");
  assert.equal(where[0].slot, 2);
  assert.equal(headsWithPatterns(results).length, 8);
  // A save of some heads names them; without names only a save of all heads is usable.
  assert.equal(headSlot({ hook: "h", shape: [8, 2, 5, 5], heads: [3, 7] }, 7, 9), 1);
  assert.equal(headSlot({ hook: "h", shape: [8, 2, 5, 5] }, 1, 9), null);
  // [rows 2, heads 3, q 2, k 2]: value = 1000 r + 100 h + 10 q + k.
  const data = new Float32Array(2 * 3 * 2 * 2);
  for (let r = 0; r < 2; r++) for (let h = 0; h < 3; h++) for (let q = 0; q < 2; q++) for (let k = 0; k < 2; k++) data[((r * 3 + h) * 2 + q) * 2 + k] = 1000 * r + 100 * h + 10 * q + k;
  const a = attentionFromTensor({ data, shape: [2, 3, 2, 2] }, 2, 1, 2, null);
  assert.deepEqual(a.pattern.shape, [2, 2, 2]);
  assert.deepEqual(Array.from(a.pattern.data), [200, 201, 210, 211, 1200, 1201, 1210, 1211]);
  assert.throws(() => attentionFromTensor({ data, shape: [2, 3, 2, 2] }, 3, 1, 2, null), /slot 3/);
});

test("patching over SmolLM2's 270 heads becomes one 30 x 9 layer x head map", () => {
  const p = patchingFromExperiment(ioi.experiment, ioi.model.n_layers, ioi.model.n_heads);
  assert.equal(p.heatmaps.length, 1);
  const g = p.heatmaps[0].grid;
  assert.equal(g.rows, 30);
  assert.equal(g.cols, 9);
  const items = ioi.experiment.sweeps![0].items;
  const top = items.reduce((a, b) => (Math.abs(b.value!) > Math.abs(a.value!) ? b : a));
  assert.equal(g.values[top.layer! * 9 + top.head!], Math.fround(top.value!));
  assert.equal(p.heatmaps[0].scale, "diverging");
  assert.ok(p.heatmaps[0].title.includes("@ -1"));
});

test("patching over layers and positions becomes a layer x position map", () => {
  const items = [];
  for (let l = 0; l < 3; l++) for (let pos = 0; pos < 4; pos++) items.push({ item: items.length, layer: l, head: null, position: pos, value: l + pos / 10 });
  const exp: ResultsExperiment = { name: "resid", kind: "activation_patching", stage: 1, sweeps: [{ name: "resid", hook: "blocks.{layer}.hook_resid_pre", metric: "m", items }] };
  const p = patchingFromExperiment(exp, 3, 9, ["<bos>", "When", " Mary", " and"]);
  const g = p.heatmaps[0].grid;
  assert.equal(g.colAxis, "position");
  assert.equal(g.rows, 3);
  assert.equal(g.cols, 4);
  assert.ok(Math.abs(g.values[2 * 4 + 3] - 2.3) < 1e-6);
  assert.equal(g.colLabels[2], "2 ·Mary");
});

test("claims and provenance", () => {
  const c = claimsFromResults(results);
  assert.equal(c.claims.length, 3);
  assert.deepEqual(c.claims.map((x) => x.passed), [true, true, false]);
  assert.equal(c.claims[2].location?.line, 25);
  assert.equal(c.passed, false);
  const p = provenanceFromDocuments(results, circuit, { url: "/api/runs/r1/circuit" });
  assert.equal(p.model.name, "induction-2l");
  assert.equal(p.model.shape.n_heads, 4);
  assert.equal(p.sourceSha256, circuit.provenance!.source_sha256);
  assert.equal(p.conditions.device, "cpu");
  assert.equal(p.downloadName, `${circuit.name}.circuit.json`);
});

test("the view index lists what the run holds and the tensors each view needs", () => {
  const views = viewIndex(results).map((v) => `${v.view}:${v.name}`);
  assert.deepEqual(views, [
    "graph:eap_circuit",
    "graph:all_views",
    "detectors:",
    "logit_lens:lens",
    "dla:dla_scores",
    "attention:patterns",
    "claims:",
    "provenance:",
  ]);
  const lens = viewIndex(results).find((v) => v.view === "logit_lens")!;
  assert.deepEqual(lens.tensors, ["lens/metric", "lens/metric_per_row"]);
  assert.ok(viewIndex(results).find((v) => v.name === "all_views")!.document);
});

test("circuit.json gets a graph only when it holds circuits that results.json does not list", () => {
  // EAP's circuit and a faithfulness measure of it: the document is that circuit again.
  const same = { ...results, document: { name: "all_views", nodes: 9, edges: 20 } };
  assert.ok(!viewIndex(same).some((v) => v.document));
  // Results from before `document`: the name comes from the caller, shown when nothing is listed.
  const old = { ...results, document: undefined };
  assert.ok(!viewIndex(old, "all_views").some((v) => v.document));
  const literalOnly = { ...results, document: undefined, circuits: {} };
  assert.deepEqual(viewIndex(literalOnly, "induction").filter((v) => v.view === "graph").map((v) => v.name), ["induction"]);
  // A run that measured no circuit at all has nothing to draw.
  const none = { ...literalOnly, experiments: results.experiments.filter((e) => !(e.analyses ?? []).some((a) => a.kind === "faithfulness")) };
  assert.ok(!viewIndex(none, "induction").some((v) => v.view === "graph"));
});

// SmolLM2-135M's sizes: 30 layers x 9 heads, and EAP's 70k scored edges. How fast the page
// handles them is measured in bench/web_timings.mjs, not here.
test("SmolLM2-sized adapters: a 270-head grid and a 70k-edge graph", () => {
  const scores: Record<string, number> = {};
  for (let l = 0; l < 30; l++) for (let h = 0; h < 9; h++) scores[`a${l}.h${h}`] = Math.sin(l * 9 + h);
  const grid = headGrid(scores, 30, 9);
  assert.equal(grid.values.length, 270);
  assert.equal(grid.values[29 * 9 + 8], Math.fround(Math.sin(29 * 9 + 8)));
  const edges: Record<string, number> = {};
  const senders = ["input", ...Array.from({ length: 30 * 9 }, (_, i) => `a${Math.floor(i / 9)}.h${i % 9}`)];
  let n = 0;
  for (const s of senders) {
    const sl = s === "input" ? -1 : Number(s.slice(1, s.indexOf(".")));
    for (let l = sl + 1; l < 30 && n < 70000; l++) for (let h = 0; h < 9; h++) for (const q of "qkv") edges[`${s}->a${l}.h${h}<${q}>`] = Math.cos(n++);
  }
  const g = graphFromEdgeScores("eap", edges, Object.keys(edges).slice(0, 50), 30, 9);
  assert.equal(g.edges.length, n);
  assert.equal(g.edges.filter((e) => e.inCircuit).length, 50);
  assert.equal(g.nodes.filter((x) => x.kind === "attention").length, 270);
});

test("token strings: an experiment's batch (results.json batches)", () => {
  const patterns = results.experiments.find((e) => e.name === "patterns")!;
  const tokens = experimentTokens(results, patterns)!;
  assert.equal(tokens.length, 32);
  assert.equal(tokens[0][0], "<|bos|>");
  // The model is byte-level: a prompt is BOS then one token per character of the task's prompt.
  assert.deepEqual(tokens[0].slice(1).join(""), (circuit as unknown as { task: { prompts: string[] } }).task.prompts[0]);
  assert.equal(experimentTokens({ ...results, batches: undefined } as unknown as ResultsDocument, patterns), null);
});

