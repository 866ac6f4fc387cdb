// Activation-patching heatmaps: one per sweep (layer x head, layer x position), a diverging
// scale centred at 0, the value on hover, click a head cell to select that head. Part of the views.
import { el } from "./dom";
import { renderHeatmap } from "./heatmap";
import type { HeatmapData, PatchingData, ViewEvents, ViewHandle } from "./types";

export function renderPatching(container: HTMLElement, data: PatchingData, events: ViewEvents = {}): ViewHandle<PatchingData> {
  const root = el("div", "cv-patching");
  container.append(root);
  let maps: ViewHandle<HeatmapData>[] = [];

  function draw(next: PatchingData): void {
    for (const m of maps) m.dispose();
    root.replaceChildren();
    if (next.heatmaps.length === 0) root.append(el("div", "cv-empty", `${next.name}: no patching results`));
    maps = next.heatmaps.map((h) => renderHeatmap(root, h, events));
  }

  draw(data);
  return {
    update: draw,
    dispose() {
      for (const m of maps) m.dispose();
      root.remove();
    },
  };
}
