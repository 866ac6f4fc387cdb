// Adapts a run's circuits, edge scores and node scores (results.json) or a circuit.json document to the circuit graph.
import type { CircuitDocument, CircuitGraphData, GraphEdge, GraphNode, NodeRef, ResultsDocument } from "../types";
import { experiment, firstAnalysis } from "./experiments";
import { nodeLabel, parseEdgeId, parseNodeId } from "./ids";

function graphNode(id: string, score: number | null, inCircuit: boolean): GraphNode {
  const ref = parseNodeId(id);
  return { ...ref, label: nodeLabel(ref), score, inCircuit };
}

function collectNodes(
  edges: GraphEdge[],
  extra: { id: string; score: number | null; inCircuit: boolean }[],
): GraphNode[] {
  const nodes = new Map<string, GraphNode>();
  for (const n of extra) nodes.set(n.id, graphNode(n.id, n.score, n.inCircuit));
  for (const e of edges) {
    for (const id of [e.source, e.target]) {
      const have = nodes.get(id);
      if (!have) nodes.set(id, graphNode(id, null, e.inCircuit));
      else if (e.inCircuit) have.inCircuit = true;
    }
  }
  return [...nodes.values()];
}

/** The circuit graph of an interchange document (circuit.json). */
export function graphFromCircuitDocument(doc: CircuitDocument): CircuitGraphData {
  const shape = doc.model.shape ?? {};
  const edges: GraphEdge[] = doc.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    input: e.input === "q" || e.input === "k" || e.input === "v" ? e.input : null,
    score: typeof e.score === "number" ? e.score : null,
    inCircuit: e.in_circuit !== false,
  }));
  const nodes = collectNodes(
    edges,
    doc.nodes.map((n) => ({ id: n.id, score: typeof n.score === "number" ? n.score : null, inCircuit: true })),
  );
  return {
    title: doc.name,
    nLayers: shape.n_layers ?? maxLayer(nodes) + 1,
    nHeads: shape.n_heads ?? maxHead(nodes) + 1,
    nodes,
    edges,
    filter: { mode: "circuit" },
  };
}

/**
 * The graph of every scored edge (EAP over SmolLM2: 70k of them) with the circuit's edges
 * marked. Unparseable ids are skipped.
 */
export function graphFromEdgeScores(
  title: string,
  scores: Record<string, number | null>,
  circuit: string[],
  nLayers: number,
  nHeads: number,
): CircuitGraphData {
  const inCircuit = new Set(circuit);
  const edges: GraphEdge[] = [];
  const add = (id: string, score: number | null) => {
    const p = parseEdgeId(id);
    if (p) edges.push({ id, source: p.source, target: p.target, input: p.input, score, inCircuit: inCircuit.has(id) });
  };
  for (const id in scores) add(id, scores[id]);
  // Circuit edges without a score (a hand-written part of a union) are kept, unscored.
  for (const id of inCircuit) if (!(id in scores)) add(id, null);
  return { title, nLayers, nHeads, nodes: collectNodes(edges, []), edges, filter: { mode: "circuit" } };
}

/**
 * Each node's score in a run: of the scores the program measured (results.json `scores`), the
 * largest in magnitude, as circuit.json's nodes carry it (so the graph needs only results.json).
 */
export function nodeScoresFromResults(results: ResultsDocument): Map<string, number> {
  const best = new Map<string, number>();
  for (const byNode of Object.values(results.scores ?? {})) {
    for (const id in byNode) {
      const s = byNode[id];
      if (typeof s !== "number" || !Number.isFinite(s)) continue;
      const old = best.get(id);
      if (old === undefined || Math.abs(s) > Math.abs(old)) best.set(id, s);
    }
  }
  return best;
}

/**
 * The graph of circuit NAME of a run: every edge score its experiment measured when it has
 * them (eap, eap_ig, acdc), else the circuit's edges; node scores from the run's scores.
 * Null when the run has no such circuit (the document's own graph: graphFromCircuitDocument).
 */
export function graphFromResults(results: ResultsDocument, name: string): CircuitGraphData | null {
  const { n_layers: nLayers, n_heads: nHeads } = results.model;
  const analysis = firstAnalysis(experiment(results, name));
  const listed = results.circuits?.[name];
  const circuitEdges = listed ?? analysis?.circuit ?? [];
  let graph: CircuitGraphData | null = null;
  if (analysis?.edges) {
    graph = graphFromEdgeScores(name, analysis.edges, analysis.circuit ?? circuitEdges, nLayers, nHeads);
  } else if (listed) {
    graph = graphFromEdgeScores(name, {}, circuitEdges, nLayers, nHeads);
  }
  if (!graph) return null;
  const nodeScores = nodeScoresFromResults(results);
  for (const n of graph.nodes) {
    const s = nodeScores.get(n.id);
    if (n.score === null && s !== undefined) n.score = s;
  }
  return graph;
}

/** Nodes of the run's listed circuits (results.json `circuits`), by id. */
export function circuitNodeIds(results: ResultsDocument): Set<string> {
  const ids = new Set<string>();
  for (const edges of Object.values(results.circuits ?? {})) {
    for (const id of edges) {
      const p = parseEdgeId(id);
      if (p) ids.add(p.source).add(p.target);
    }
  }
  return ids;
}

function maxLayer(nodes: NodeRef[]): number {
  return nodes.reduce((m, n) => Math.max(m, n.layer ?? -1), 0);
}

function maxHead(nodes: NodeRef[]): number {
  return nodes.reduce((m, n) => Math.max(m, n.head ?? -1), 0);
}
