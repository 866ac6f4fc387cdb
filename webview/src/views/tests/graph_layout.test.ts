// Unit tests of the circuit graph's layout helpers (graph_layout.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { graphFromCircuitDocument } from "../adapters/circuit_graph";
import { nodeLabel, parseNodeId } from "../adapters/ids";
import {
  elkRequest,
  layoutFromElk,
  layoutKey,
  NODE_W,
  provisionalLayout,
  rowOf,
  sortedMagnitudes,
  visibleEdges,
  visibleNodes,
} from "../graph_layout";
import type { CircuitDocument, GraphEdge, GraphNode } from "../types";
import circuitJson from "./fixtures/induction_circuit.json";

function node(id: string): GraphNode {
  const ref = parseNodeId(id);
  return { ...ref, label: nodeLabel(ref), score: null, inCircuit: false };
}

function edge(source: string, target: string, score: number | null, inCircuit = false): GraphEdge {
  return { id: `${source}->${target}`, source, target, input: null, score, inCircuit };
}

test("rows: input at the bottom, each layer's heads then its MLP, logits at the top", () => {
  assert.equal(rowOf(node("input"), 30, true), 0);
  assert.equal(rowOf(node("a0.h3"), 30, true), 1);
  assert.equal(rowOf(node("m0"), 30, true), 2);
  assert.equal(rowOf(node("a1.h0"), 30, true), 3);
  assert.equal(rowOf(node("logits"), 30, true), 61);
  assert.equal(rowOf(node("a1.h0"), 2, false), 2);
  assert.equal(rowOf(node("logits"), 2, false), 3);
});

test("filters: the circuit, a threshold on |score|, the top k", () => {
  const edges = [edge("input", "a0.h0", 0.5, true), edge("a0.h0", "a1.h0", -0.9), edge("a0.h1", "a1.h0", 0.1), edge("a1.h0", "logits", null, true)];
  assert.deepEqual(visibleEdges(edges, { mode: "circuit" }).map((e) => e.source), ["input", "a1.h0"]);
  assert.deepEqual(visibleEdges(edges, { mode: "threshold", minAbsScore: 0.5 }).map((e) => e.source), ["input", "a0.h0", "a1.h0"]);
  assert.deepEqual(visibleEdges(edges, { mode: "top", k: 1 }).map((e) => e.id), ["a1.h0->logits", "a0.h0->a1.h0"]);
  assert.deepEqual(Array.from(sortedMagnitudes(edges)).map((v) => v.toFixed(1)), ["0.9", "0.5", "0.1"]);
  const nodes = ["input", "a0.h0", "a0.h1", "a1.h0", "logits", "a1.h3"].map(node);
  nodes[5].inCircuit = true; // a lone circuit node stays in circuit mode only
  const shown = visibleNodes(nodes, visibleEdges(edges, { mode: "top", k: 1 }), { mode: "top", k: 1 }).map((n) => n.id);
  assert.deepEqual(shown, ["a0.h0", "a1.h0", "logits"]);
});

test("layouts keep every node on its model row, rows apart, no overlaps within a row", () => {
  const g = graphFromCircuitDocument(circuitJson as unknown as CircuitDocument);
  const check = (layout: ReturnType<typeof provisionalLayout>) => {
    for (const a of g.nodes) {
      for (const b of g.nodes) {
        if (a === b) continue;
        const ra = rowOf(a, g.nLayers, false);
        const rb = rowOf(b, g.nLayers, false);
        if (ra === rb) {
          assert.equal(layout.y.get(a.id), layout.y.get(b.id));
          assert.ok(Math.abs(layout.x.get(a.id)! - layout.x.get(b.id)!) >= NODE_W, `${a.id} overlaps ${b.id}`);
        } else {
          // A higher row is drawn higher (smaller y).
          assert.equal(ra > rb, layout.y.get(a.id)! < layout.y.get(b.id)!);
        }
      }
    }
  };
  check(provisionalLayout(g.nodes, g.nLayers, g.nHeads, false));
  // ELK x positions that collide are pushed apart in ELK's order.
  const elkX = new Map(g.nodes.map((n, i) => [n.id, i % 2 === 0 ? 100 : 101]));
  const fromElk = layoutFromElk(g.nodes, g.nLayers, false, elkX);
  check(fromElk);
});

test("the ELK request: hub edges out only when there are many, strongest edges within the budget", () => {
  const nodes = ["input", "a0.h0", "a1.h0", "a29.h0", "logits"].map(node);
  const few = [edge("input", "a0.h0", 1), edge("a0.h0", "a1.h0", 1), edge("a1.h0", "logits", 1)];
  const budget = { hubEdgeLimit: 150, maxRowsCrossed: 1000 };
  assert.equal(elkRequest(nodes, few, 30, true, budget).edges.length, 3);
  assert.equal(elkRequest(nodes, few, 30, true, budget).children.length, 5); // lone nodes too
  const noHubs = elkRequest(nodes, few, 30, true, { ...budget, hubEdgeLimit: 2 });
  assert.deepEqual(noHubs.edges.map((e) => e.id), ["a0.h0->a1.h0"]);
  assert.deepEqual(noHubs.children.map((c) => c.id), ["a0.h0", "a1.h0"]);
  assert.equal(noHubs.layoutOptions["elk.algorithm"], "layered");
  // a0.h0 -> a29.h0 crosses 58 rows (heads and MLPs), a0.h0 -> a1.h0 two: a budget of 10 keeps the short one
  // although the long one is stronger; the strongest edge is always kept.
  const long = [edge("a0.h0", "a29.h0", 0.9), edge("a0.h0", "a1.h0", 0.5)];
  assert.deepEqual(elkRequest(nodes, long, 30, true, { hubEdgeLimit: 150, maxRowsCrossed: 10 }).edges.map((e) => e.id), ["a0.h0->a29.h0"]);
  assert.deepEqual(elkRequest(nodes, long, 30, true, { hubEdgeLimit: 150, maxRowsCrossed: 60 }).edges.length, 2);
  const short = [edge("a0.h0", "a1.h0", 0.9), edge("a0.h0", "a29.h0", 0.5)];
  assert.deepEqual(elkRequest(nodes, short, 30, true, { hubEdgeLimit: 150, maxRowsCrossed: 10 }).edges.map((e) => e.id), ["a0.h0->a1.h0"]);
});

test("nodes ELK did not see sit between their neighbours", () => {
  const nodes = ["a0.h0", "a0.h1", "a1.h0", "a2.h0"].map(node);
  const edges = [edge("a0.h0", "a1.h0", 1), edge("a0.h1", "a1.h0", 1), edge("a1.h0", "a2.h0", 0.1)];
  const layout = layoutFromElk(nodes, 3, false, new Map([["a0.h0", 100], ["a0.h1", 200], ["a1.h0", 150]]), edges);
  assert.equal(layout.x.get("a2.h0"), layout.x.get("a1.h0"));
});

test("layout keys change with the visible edges, not with their order", () => {
  const nodes = ["a0.h0", "a1.h0", "a1.h1"].map(node);
  const a = [edge("a0.h0", "a1.h0", 1), edge("a0.h0", "a1.h1", 1)];
  assert.equal(layoutKey(a, nodes), layoutKey([a[1], a[0]], nodes));
  assert.notEqual(layoutKey(a, nodes), layoutKey([a[0]], nodes));
});
