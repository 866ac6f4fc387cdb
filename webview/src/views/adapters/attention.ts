// Adapts a run's saved attention patterns (results.json saves, their tensors) to the attention pattern view.
import type { AttentionPatternData, NodeRef, ResultsDocument, ResultsSave, Tensor } from "../types";
import { headCell } from "./ids";

/** Where a head's pattern is saved: the tensor's name and the head's index on its second axis. */
export interface PatternLocation {
  experiment: string;
  tensor: string; // "patterns/blocks.1.attn.hook_pattern"
  slot: number;
  shape: number[];
}

/** Which slot of a pattern save holds `head`, or null (saves of some heads must say which). */
export function headSlot(save: ResultsSave, head: number, nHeads: number): number | null {
  if (save.heads) {
    const i = save.heads.indexOf(head);
    return i >= 0 ? i : null;
  }
  return save.shape[1] === nHeads && head < nHeads ? head : null;
}

/** Every saved attention pattern of head layer.head in a run. */
export function findPatterns(results: ResultsDocument, layer: number, head: number): PatternLocation[] {
  const hook = `blocks.${layer}.attn.hook_pattern`;
  const found: PatternLocation[] = [];
  for (const exp of results.experiments) {
    for (const pass of exp.passes ?? []) {
      for (const save of pass.saves) {
        if (save.hook !== hook || save.shape.length !== 4) continue;
        const slot = headSlot(save, head, results.model.n_heads);
        if (slot !== null) found.push({ experiment: exp.name, tensor: `${exp.name}/${save.hook}`, slot, shape: save.shape });
      }
    }
  }
  return found;
}

/** Heads whose attention pattern a run saved (for the shell: which heads are clickable). */
export function headsWithPatterns(results: ResultsDocument): NodeRef[] {
  const heads: NodeRef[] = [];
  for (let l = 0; l < results.model.n_layers; l++) {
    for (let h = 0; h < results.model.n_heads; h++) {
      if (findPatterns(results, l, h).length > 0) heads.push(headCell(l, h));
    }
  }
  return heads;
}

/** One head's [rows, q, k] pattern out of a [rows, heads, q, k] save. */
export function attentionFromTensor(
  tensor: Tensor,
  slot: number,
  layer: number,
  head: number,
  tokens: string[][] | null,
): AttentionPatternData {
  if (tensor.shape.length !== 4) {
    throw new Error(`attention pattern: expected [rows, heads, q, k], got [${tensor.shape.join(", ")}]`);
  }
  const [rows, heads, nq, nk] = tensor.shape;
  if (slot < 0 || slot >= heads) throw new Error(`attention pattern: head slot ${slot} outside 0..${heads - 1}`);
  const block = nq * nk;
  const data = new Float32Array(rows * block);
  for (let r = 0; r < rows; r++) {
    const from = (r * heads + slot) * block;
    data.set(tensor.data.subarray(from, from + block), r * block);
  }
  return { layer, head, pattern: { data, shape: [rows, nq, nk] }, tokens, row: 0 };
}
