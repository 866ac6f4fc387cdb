// Adapts ids to what the views show: node and edge ids, source locations, node and token labels.
import type { NodeKind, NodeRef, SourceLocation } from "../types";

export const HEAD_ID = /^a(\d+)\.h(\d+)$/;
export const MLP_ID = /^m(\d+)$/;
const LAYER_ID = /^(?:attn|resid)(\d+)$/;

/** The node an id names: "a1.h3", "m4", "input", "logits" (anything else is kind "other"). */
export function parseNodeId(id: string): NodeRef {
  let m = HEAD_ID.exec(id);
  if (m) return { id, kind: "attention", layer: Number(m[1]), head: Number(m[2]) };
  m = MLP_ID.exec(id);
  if (m) return { id, kind: "mlp", layer: Number(m[1]), head: null };
  if (id === "input" || id === "embed") return { id, kind: "input", layer: null, head: null };
  if (id === "logits") return { id, kind: "logits", layer: null, head: null };
  m = LAYER_ID.exec(id);
  return { id, kind: "other", layer: m ? Number(m[1]) : null, head: null };
}

/** The NodeKind of a node id (a shorthand for parseNodeId(id).kind). */
export function nodeKind(id: string): NodeKind {
  return parseNodeId(id).kind;
}

/** Head `col` of layer `row` as a node: the cell of a layer x head grid. */
export function headCell(row: number, col: number): NodeRef {
  return { id: `a${row}.h${col}`, kind: "attention", layer: row, head: col };
}

/** An edge id "a0.h1->a1.h2<k>" split into sender, receiver and input; null when malformed. */
export function parseEdgeId(id: string): { source: string; target: string; input: "q" | "k" | "v" | null } | null {
  // By hand rather than by a regular expression: EAP over SmolLM2 scores 70k edges, parsed on every load.
  const arrow = id.indexOf("->");
  if (arrow <= 0) return null;
  let end = id.length;
  let input: "q" | "k" | "v" | null = null;
  if (id.charCodeAt(end - 1) === 62 /* > */ && id.charCodeAt(end - 3) === 60 /* < */) {
    const c = id[end - 2];
    if (c !== "q" && c !== "k" && c !== "v") return null;
    input = c;
    end -= 3;
  }
  if (end <= arrow + 2) return null;
  return { source: id.slice(0, arrow), target: id.slice(arrow + 2, end), input };
}

/** "examples/induction.circuit:31:1" parsed; null when it has no line and column. */
export function parseLocation(text: string | undefined | null): SourceLocation | null {
  if (!text) return null;
  const m = /^(.*):(\d+):(\d+)$/.exec(text);
  if (!m) return null;
  return { file: m[1], line: Number(m[2]), col: Number(m[3]) };
}

/** The label a node shows in the graph. */
export function nodeLabel(node: NodeRef): string {
  switch (node.kind) {
    case "attention":
      return `${node.layer}.${node.head}`;
    case "mlp":
      return `MLP ${node.layer}`;
    case "input":
      return "embed";
    case "logits":
      return "logits";
    default:
      return node.id;
  }
}

/** A token as shown: whitespace made visible, so " Mary" (·Mary) and "Mary" differ. */
export function showToken(token: string): string {
  return token.replace(/ /g, "·").replace(/\n/g, "↵").replace(/\t/g, "→");
}
