// The logit lens: the metric read off the residual stream after every layer (a line, with the
// model's own value as a dashed reference), per prompt or position (a layer x column heatmap)
// when the run kept it, and the classic per-position lens (lens_grid.ts: the top token at every
// layer and position of one prompt) when the run kept top_tokens. Part of the webview's views.
import { lineChart } from "./chart";
import { el, Tooltip } from "./dom";
import { renderHeatmap } from "./heatmap";
import { renderLensGrid, type LensGridHandle } from "./lens_grid";
import type { HeatmapData, LogitLensData, ViewEvents, ViewHandle } from "./types";

export function renderLogitLens(container: HTMLElement, data: LogitLensData, events: ViewEvents = {}): ViewHandle<LogitLensData> {
  const root = el("div", "cv-lens");
  container.append(root);
  const tooltip = new Tooltip(root);
  let heatmap: ViewHandle<HeatmapData> | null = null;
  let lensGrid: LensGridHandle | null = null;

  function draw(next: LogitLensData): void {
    heatmap?.dispose();
    heatmap = null;
    lensGrid?.dispose();
    lensGrid = null;
    root.replaceChildren(tooltip.node);
    if (next.perLayer.length > 0) {
      root.append(el("div", "cv-title", `logit lens ${next.name}: ${next.metric} after each layer`));
      const labels = Array.from({ length: next.perLayer.length }, (_, i) => String(i));
      const reference = next.modelValue === null ? null : { value: next.modelValue, label: "model" };
      lineChart(root, tooltip, next.perLayer, labels, next.metric, reference);
    } else {
      root.append(el("div", "cv-title", `logit lens ${next.name}`));
    }
    if (next.grid) {
      heatmap = renderHeatmap(
        root,
        { title: `${next.metric} per ${next.grid.colAxis}`, grid: next.grid, scale: "diverging", valueLabel: next.metric },
        events,
      );
    }
    if (next.positions) lensGrid = renderLensGrid(root, next.positions);
  }

  draw(data);
  return {
    update: draw,
    dispose() {
      heatmap?.dispose();
      lensGrid?.dispose();
      root.remove();
    },
  };
}
