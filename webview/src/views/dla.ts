// Direct logit attribution: each head's direct contribution to the metric (a layer x head
// heatmap, click a head to select it) and each layer's total (bars: its heads, and its MLP),
// with the embeddings, the biases and the total they add up to. Part of the webview's views.
import { barChart } from "./chart";
import { formatNumber } from "./colour";
import { el, Tooltip } from "./dom";
import { renderHeatmap } from "./heatmap";
import type { DlaData, HeatmapData, ViewEvents, ViewHandle } from "./types";

/** Per layer: the sum of its heads' contributions (NaN heads left out). */
export function layerTotals(data: DlaData): Float32Array {
  const { rows, cols, values } = data.heads;
  const totals = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      if (!Number.isNaN(v)) s += v;
    }
    totals[r] = s;
  }
  return totals;
}

export function renderDla(container: HTMLElement, data: DlaData, events: ViewEvents = {}): ViewHandle<DlaData> {
  const root = el("div", "cv-dla");
  container.append(root);
  const tooltip = new Tooltip(root);
  let heatmap: ViewHandle<HeatmapData> | null = null;

  function draw(next: DlaData): void {
    heatmap?.dispose();
    root.replaceChildren(tooltip.node);
    heatmap = renderHeatmap(
      root,
      { title: `DLA ${next.name}: each head's direct effect on the ${next.metric}`, grid: next.heads, scale: "diverging", valueLabel: "direct effect" },
      events,
    );
    const labels = next.heads.rowLabels;
    const series = [{ name: "heads", values: layerTotals(next) }];
    if (next.mlps) series.push({ name: "MLP", values: next.mlps });
    root.append(el("div", "cv-subtitle", next.mlps ? "per layer: heads (dark), MLP (light)" : "per layer: sum of its heads"));
    barChart(root, tooltip, series, labels, "direct effect", );
    const parts = [
      ["embeddings", next.input],
      ["biases", next.bias],
      ["total", next.logit],
    ].filter(([, v]) => v !== null) as [string, number][];
    if (parts.length) root.append(el("div", "cv-note", parts.map(([k, v]) => `${k} ${formatNumber(v)}`).join(" · ")));
  }

  draw(data);
  return {
    update: draw,
    dispose() {
      heatmap?.dispose();
      root.remove();
    },
  };
}
