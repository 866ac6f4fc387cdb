// The circuit graph's layout, without the DOM: which edges are visible under a filter, the row
// of each node (input at the bottom, then each layer's heads and its MLP, logits at the top),
// the ELK graph handed to the layout worker and the rows imposed on its result. Part of the
// webview's views; circuit_graph.ts draws what this computes.
//
// ELK's layered algorithm places nodes by its own layering, which compresses a model's layers
// (a0.h0 -> a5.h1 becomes one layer apart). The model's layers are the point of the picture, so
// ELK decides the horizontal order and positions (crossing minimisation and node placement) and
// each node is then put on its model row; overlaps within a row are pushed apart in ELK's order.
import type { EdgeFilter, GraphEdge, GraphNode } from "./types";

export const NODE_W = 34;
export const NODE_H = 18;
export const GAP_X = 8; // the least horizontal gap between two nodes of a row
export const ROW_H = 46;

/** Where each node sits (its centre), and the drawing's size. */
export interface Layout {
  x: Map<string, number>;
  y: Map<string, number>;
  width: number;
  height: number;
}

/** The ELK JSON a layout request sends (the subset of ElkNode this view uses). */
export interface ElkRequest {
  id: string;
  layoutOptions: Record<string, string>;
  children: { id: string; width: number; height: number }[];
  edges: { id: string; sources: string[]; targets: string[] }[];
}

/** The edges a filter keeps: the circuit's, |score| >= t, or the k largest |score|. */
export function visibleEdges(edges: GraphEdge[], filter: EdgeFilter): GraphEdge[] {
  switch (filter.mode) {
    case "circuit":
      return edges.filter((e) => e.inCircuit);
    case "threshold":
      return edges.filter((e) => e.score === null || Math.abs(e.score) >= filter.minAbsScore);
    case "top": {
      const unscored = edges.filter((e) => e.score === null);
      const scored = edges.filter((e) => e.score !== null);
      if (scored.length > filter.k) {
        scored.sort((a, b) => Math.abs(b.score!) - Math.abs(a.score!));
        scored.length = Math.max(0, filter.k);
      }
      return unscored.concat(scored);
    }
  }
}

/** |score| of every scored edge, largest first (the slider's scale). */
export function sortedMagnitudes(edges: GraphEdge[]): Float64Array {
  const a = new Float64Array(edges.filter((e) => e.score !== null).map((e) => Math.abs(e.score!)));
  a.sort();
  return a.reverse();
}

/** The nodes the visible edges touch, plus the circuit's lone nodes when showing the circuit. */
export function visibleNodes(nodes: GraphNode[], edges: GraphEdge[], filter: EdgeFilter): GraphNode[] {
  const used = new Set<string>();
  for (const e of edges) {
    used.add(e.source);
    used.add(e.target);
  }
  return nodes.filter((n) => used.has(n.id) || (filter.mode === "circuit" && n.inCircuit && n.kind !== "other"));
}

/** A node's row from the bottom: input 0, layer l's heads, then its MLP (when the model has them), logits last. */
export function rowOf(node: GraphNode, nLayers: number, withMlps: boolean): number {
  const per = withMlps ? 2 : 1;
  switch (node.kind) {
    case "input":
      return 0;
    case "logits":
      return nLayers * per + 1;
    case "mlp":
      return (node.layer ?? 0) * per + 2;
    default:
      return (node.layer ?? 0) * per + 1;
  }
}

export function rowCount(nLayers: number, withMlps: boolean): number {
  return nLayers * (withMlps ? 2 : 1) + 2;
}

/** The order of a node inside its row before ELK has spoken: MLP right of the heads. */
function naturalOrder(n: GraphNode): number {
  return n.kind === "mlp" ? 1e6 : (n.head ?? 0);
}

/** Puts nodes on their rows at the given x (ELK's, or the natural order), without overlaps. */
export function placeOnRows(
  nodes: GraphNode[],
  nLayers: number,
  withMlps: boolean,
  xOf: (n: GraphNode) => number,
): Layout {
  const rows = new Map<number, GraphNode[]>();
  for (const n of nodes) {
    const r = rowOf(n, nLayers, withMlps);
    let row = rows.get(r);
    if (!row) rows.set(r, (row = []));
    row.push(n);
  }
  const x = new Map<string, number>();
  let minX = Infinity;
  let maxX = -Infinity;
  for (const row of rows.values()) {
    row.sort((a, b) => xOf(a) - xOf(b) || naturalOrder(a) - naturalOrder(b));
    let last = -Infinity;
    const placed = row.map((n) => {
      const px = Math.max(xOf(n), last + NODE_W + GAP_X);
      last = px;
      return px;
    });
    // Pushing right only drifts a crowded row; re-centre it on where ELK wanted it.
    const wanted = row.reduce((s, n) => s + xOf(n), 0) / row.length;
    const got = placed.reduce((s, v) => s + v, 0) / placed.length;
    row.forEach((n, i) => {
      const px = placed[i] + (wanted - got);
      x.set(n.id, px);
      minX = Math.min(minX, px);
      maxX = Math.max(maxX, px);
    });
  }
  if (nodes.length === 0) return { x, y: new Map(), width: 0, height: 0 };
  const margin = NODE_W;
  for (const [id, px] of x) x.set(id, px - minX + margin);
  const nRows = rowCount(nLayers, withMlps);
  // Empty rows between occupied ones shrink to a third, so a sparse 30-layer circuit stays compact.
  const occupied = new Set(rows.keys());
  const rowY = new Float64Array(nRows);
  let y = NODE_H;
  for (let r = nRows - 1; r >= 0; r--) {
    rowY[r] = y;
    y += occupied.has(r) ? ROW_H : ROW_H / 3;
  }
  const ys = new Map<string, number>();
  let bottom = 0;
  for (const n of nodes) {
    const ny = rowY[rowOf(n, nLayers, withMlps)];
    ys.set(n.id, ny);
    bottom = Math.max(bottom, ny);
  }
  return { x, y: ys, width: maxX - minX + 2 * margin, height: bottom + NODE_H };
}

/** A layout with no ELK: heads in head order, rows centred (shown while ELK works). */
export function provisionalLayout(nodes: GraphNode[], nLayers: number, nHeads: number, withMlps: boolean): Layout {
  const centre = ((nHeads + 1) * (NODE_W + GAP_X)) / 2;
  return placeOnRows(nodes, nLayers, withMlps, (n) => {
    if (n.kind === "attention") return (n.head ?? 0) * (NODE_W + GAP_X);
    if (n.kind === "mlp") return nHeads * (NODE_W + GAP_X);
    return centre;
  });
}

/** How much of the visible graph ELK is given: it spends its time on the rows edges cross. */
export interface ElkBudget {
  /** Edges from the embeddings / into the logits are left out above this many visible edges. */
  hubEdgeLimit: number;
  /** The most rows crossed, summed over the edges given to ELK (each crossing is a dummy node). */
  maxRowsCrossed: number;
}

// Measured in Chromium on SmolLM2's EAP edges: ~0.5 s for 2,000 rows crossed; 1,000 edges
// crossing ~20 rows each took 96 s when all were given.
export const DEFAULT_BUDGET: ElkBudget = { hubEdgeLimit: 150, maxRowsCrossed: 2500 };

/**
 * The ELK graph of the visible graph's strongest part: its edges by |score| (unscored first)
 * while the rows they cross stay within the budget, and the nodes those edges touch. Edges from
 * the embeddings and into the logits are left out when there are many: each crosses every row
 * and changes little of the order. Everything visible is still drawn; nodes ELK did not see are
 * placed by their neighbours (layoutFromElk).
 */
export function elkRequest(
  nodes: GraphNode[],
  edges: GraphEdge[],
  nLayers: number,
  withMlps: boolean,
  budget: ElkBudget = DEFAULT_BUDGET,
): ElkRequest {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const big = edges.length > budget.hubEdgeLimit;
  const candidates = (big ? edges.filter((e) => !isHubEdge(e)) : edges.slice()).sort(
    (a, b) => (b.score === null ? Infinity : Math.abs(b.score)) - (a.score === null ? Infinity : Math.abs(a.score)),
  );
  const kept: GraphEdge[] = [];
  let crossed = 0;
  for (const e of candidates) {
    const s = byId.get(e.source);
    const t = byId.get(e.target);
    if (!s || !t) continue;
    const span = Math.abs(rowOf(t, nLayers, withMlps) - rowOf(s, nLayers, withMlps));
    if (crossed + span > budget.maxRowsCrossed && kept.length > 0) continue;
    crossed += span;
    kept.push(e);
  }
  const used = new Set<string>();
  for (const e of kept) {
    used.add(e.source);
    used.add(e.target);
  }
  // With few edges every node goes in, so lone circuit nodes get ELK's place too.
  const children = big ? nodes.filter((n) => used.has(n.id)) : nodes;
  const many = kept.length > 400;
  return {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "UP",
      "elk.edgeRouting": "POLYLINE",
      "elk.spacing.nodeNode": String(GAP_X),
      "elk.layered.spacing.nodeNodeBetweenLayers": "24",
      "elk.layered.thoroughness": many ? "1" : "7",
      "elk.layered.crossingMinimization.greedySwitch.type": many ? "OFF" : "TWO_SIDED",
      "elk.layered.nodePlacement.strategy": many ? "SIMPLE" : "BRANDES_KOEPF",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    },
    children: children.map((n) => ({ id: n.id, width: NODE_W, height: NODE_H })),
    edges: kept.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
}

function isHubEdge(e: GraphEdge): boolean {
  return e.source === "input" || e.target === "logits";
}

/**
 * The layout from ELK's x positions (node centres). A node ELK did not see sits at the mean x of
 * its neighbours that it did see, or at the centre.
 */
export function layoutFromElk(
  nodes: GraphNode[],
  nLayers: number,
  withMlps: boolean,
  elkX: Map<string, number>,
  edges: GraphEdge[] = [],
): Layout {
  let sum = 0;
  for (const v of elkX.values()) sum += v;
  const centre = elkX.size > 0 ? sum / elkX.size : 0;
  const near = new Map<string, { sum: number; n: number }>();
  for (const e of edges) {
    for (const [a, b] of [
      [e.source, e.target],
      [e.target, e.source],
    ]) {
      if (elkX.has(a) || !elkX.has(b)) continue;
      const acc = near.get(a) ?? { sum: 0, n: 0 };
      acc.sum += elkX.get(b)!;
      acc.n += 1;
      near.set(a, acc);
    }
  }
  return placeOnRows(nodes, nLayers, withMlps, (n) => {
    const x = elkX.get(n.id);
    if (x !== undefined) return x;
    const acc = near.get(n.id);
    return acc ? acc.sum / acc.n : centre;
  });
}

/** A key that names a set of visible edges, for caching layouts. */
export function layoutKey(edges: GraphEdge[], nodes: GraphNode[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      h1 = Math.imul(h1 ^ s.charCodeAt(i), 16777619);
      h2 = (h2 * 31 + s.charCodeAt(i)) | 0;
    }
  };
  const ids = edges.map((e) => e.id).sort();
  ids.forEach(mix);
  nodes.forEach((n) => mix(n.id));
  return `${ids.length}:${nodes.length}:${(h1 >>> 0).toString(16)}:${(h2 >>> 0).toString(16)}`;
}

/** Where an edge arrives on a head: its query on the left, key in the middle, value on the right. */
export function inputOffset(input: GraphEdge["input"]): number {
  switch (input) {
    case "q":
      return -NODE_W / 3;
    case "v":
      return NODE_W / 3;
    default:
      return 0;
  }
}
