// Adapts scores and tensors to the grids the heatmap draws (layer x head, or any 2-D tensor), and ranks a grid's heads.
import type { Grid, NodeRef, Tensor } from "../types";
import { HEAD_ID, headCell } from "./ids";

/** Labels "0".."n-1" (or label(i)). */
export function range(n: number, label: (i: number) => string = String): string[] {
  return Array.from({ length: n }, (_, i) => label(i));
}

/** A layer x head grid from scores keyed by node id ("a1.h3"); missing heads are NaN. */
export function headGrid(scores: Record<string, number | null>, nLayers: number, nHeads: number): Grid {
  const values = new Float32Array(nLayers * nHeads).fill(NaN);
  for (const [id, value] of Object.entries(scores)) {
    const m = HEAD_ID.exec(id);
    if (!m) continue;
    const l = Number(m[1]);
    const h = Number(m[2]);
    if (l < nLayers && h < nHeads) values[l * nHeads + h] = value ?? NaN;
  }
  return layerHeadGrid(values, nLayers, nHeads);
}

/** Row-major layer x head values as a grid whose cells are heads. */
export function layerHeadGrid(values: Float32Array, nLayers: number, nHeads: number): Grid {
  return {
    rows: nLayers,
    cols: nHeads,
    values,
    rowLabels: range(nLayers),
    colLabels: range(nHeads),
    rowAxis: "layer",
    colAxis: "head",
    cellNode: headCell,
  };
}

/** A grid over a 2-D tensor (a 1-D tensor is one column). */
export function gridFromTensor(
  tensor: Tensor,
  rowAxis: string,
  colAxis: string,
  labels: { rows?: string[]; cols?: string[] } = {},
): Grid {
  if (tensor.shape.length < 1 || tensor.shape.length > 2) {
    throw new Error(`gridFromTensor: expected a 1-D or 2-D tensor, got shape [${tensor.shape.join(", ")}]`);
  }
  const rows = tensor.shape[0];
  const cols = tensor.shape.length === 2 ? tensor.shape[1] : 1;
  if (tensor.data.length !== rows * cols) {
    throw new Error(`gridFromTensor: shape [${tensor.shape.join(", ")}] does not match ${tensor.data.length} values`);
  }
  const isHeads = rowAxis === "layer" && colAxis === "head";
  return {
    rows,
    cols,
    values: tensor.data,
    rowLabels: labels.rows ?? range(rows),
    colLabels: labels.cols ?? range(cols),
    rowAxis,
    colAxis,
    cellNode: isHeads ? headCell : null,
  };
}

/** The k heads with the highest value of a layer x head grid, best first (NaN left out). */
export function rankHeads(grid: Grid, k: number): { node: NodeRef; value: number }[] {
  const ranked: { node: NodeRef; value: number }[] = [];
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const v = grid.values[r * grid.cols + c];
      if (Number.isNaN(v)) continue;
      ranked.push({ node: grid.cellNode?.(r, c) ?? headCell(r, c), value: v });
    }
  }
  ranked.sort((a, b) => b.value - a.value || (a.node.layer ?? 0) - (b.node.layer ?? 0));
  return ranked.slice(0, k);
}
