// Adapts an activation-patching experiment's sweeps to the patching view's heatmaps.
import type { HeatmapData, PatchingData, ResultsExperiment } from "../types";
import { layerHeadGrid, range } from "./grid";
import { showToken } from "./ids";

/** Heatmaps of an activation-patching experiment from its sweeps' items. */
export function patchingFromExperiment(
  exp: ResultsExperiment,
  nLayers: number,
  nHeads: number,
  tokens: string[] | null = null,
): PatchingData {
  const heatmaps: HeatmapData[] = [];
  let metric = "";
  for (const sweep of exp.sweeps ?? []) {
    metric = sweep.metric;
    const items = sweep.items.filter((it) => it.layer !== null && it.layer !== undefined);
    const hasHeads = items.some((it) => it.head !== null && it.head !== undefined);
    const positions = [...new Set(items.map((it) => it.position ?? 0))].sort((a, b) => a - b);
    const what = sweep.hook.replace("blocks.{layer}.", "");
    const byLayer = (fill: (values: Float32Array, cols: number, pos: number | null) => void, cols: number, pos: number | null) => {
      const values = new Float32Array(nLayers * cols).fill(NaN);
      fill(values, cols, pos);
      return values;
    };
    if (hasHeads) {
      // One layer x head map per position (usually one: `heads * @ -1`).
      for (const pos of positions) {
        const values = byLayer((v) => {
          for (const it of items) {
            if ((it.position ?? 0) !== pos || it.head === null || it.head === undefined) continue;
            if (it.layer! < nLayers && it.head < nHeads) v[it.layer! * nHeads + it.head] = it.value ?? NaN;
          }
        }, nHeads, pos);
        const where = positions.length > 1 || pos !== 0 ? ` @ ${positionLabel(pos, tokens)}` : "";
        heatmaps.push({
          title: `${sweep.name}: ${what}${where}`,
          grid: layerHeadGrid(values, nLayers, nHeads),
          scale: "diverging",
          valueLabel: sweep.metric,
        });
      }
    } else {
      const cols = positions.length;
      const values = byLayer((v) => {
        for (const it of items) {
          const c = positions.indexOf(it.position ?? 0);
          if (it.layer! < nLayers) v[it.layer! * cols + c] = it.value ?? NaN;
        }
      }, cols, null);
      heatmaps.push({
        title: `${sweep.name}: ${what}`,
        grid: {
          rows: nLayers,
          cols,
          values,
          rowLabels: range(nLayers),
          colLabels: positions.map((p) => positionLabel(p, tokens)),
          rowAxis: "layer",
          colAxis: "position",
          cellNode: null,
        },
        scale: "diverging",
        valueLabel: sweep.metric,
      });
    }
  }
  return { name: exp.name, metric, heatmaps };
}

/** A patched position's label: its index, and its token when the prompt's tokens are known. */
function positionLabel(pos: number, tokens: string[] | null): string {
  if (!tokens) return String(pos);
  const i = pos < 0 ? tokens.length + pos : pos;
  return i >= 0 && i < tokens.length ? `${pos} ${showToken(tokens[i])}` : String(pos);
}
