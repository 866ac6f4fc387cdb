// Head-detector scores (previous token, induction, duplicate token, copying): a layer x head
// heatmap per detector and a table of the best heads, ranked by the chosen detector, with every
// detector's score per row. Click a head (cell or row) to select it. Part of the webview's views.
import { rankHeads } from "./adapters/grid";
import { el } from "./dom";
import { renderHeatmap } from "./heatmap";
import type { DetectorData, DetectorKind, HeatmapData, ViewEvents, ViewHandle } from "./types";

const TITLES: Record<DetectorKind, string> = {
  previous_token_score: "previous token",
  induction_score: "induction",
  duplicate_token_score: "duplicate token",
  copying_score: "copying",
};

export function renderDetectors(container: HTMLElement, data: DetectorData, events: ViewEvents = {}): ViewHandle<DetectorData> {
  const root = el("div", "cv-detectors");
  container.append(root);
  let maps: ViewHandle<HeatmapData>[] = [];
  let rankBy = 0;

  function draw(next: DetectorData): void {
    for (const m of maps) m.dispose();
    root.replaceChildren();
    if (next.detectors.length === 0) {
      root.append(el("div", "cv-empty", "no head detector in this run"));
      maps = [];
      return;
    }
    rankBy = Math.min(rankBy, next.detectors.length - 1);
    const grids = el("div", "cv-small-multiples");
    root.append(grids);
    maps = next.detectors.map((d) =>
      renderHeatmap(
        grids,
        {
          title: `${TITLES[d.kind]} (${d.name})`,
          grid: d.grid,
          // Copying scores run from -1 to 1; the attention detectors from 0 to 1.
          scale: d.kind === "copying_score" ? "diverging" : "sequential",
          range: 1,
          valueLabel: `${TITLES[d.kind]} score`,
          // Four maps side by side: small cells once the model has more than a few layers.
          maxCell: next.nLayers > 8 ? 14 : 28,
        },
        events,
      ),
    );
    root.append(table(next));
  }

  function table(next: DetectorData): HTMLElement {
    const select = el("select");
    next.detectors.forEach((d, i) => select.append(new Option(`${TITLES[d.kind]} (${d.name})`, String(i))));
    select.value = String(rankBy);
    select.addEventListener("change", () => {
      rankBy = Number(select.value);
      draw(next);
    });
    const head = el("tr", "", el("th", "", "#"), el("th", "", "head"), ...next.detectors.map((d) => el("th", "", TITLES[d.kind])));
    const body = el("tbody");
    const ranked = rankHeads(next.detectors[rankBy].grid, next.topK ?? 20);
    ranked.forEach(({ node }, i) => {
      const cells = next.detectors.map((d, k) => {
        const v = d.grid.values[(node.layer ?? 0) * d.grid.cols + (node.head ?? 0)];
        return el("td", k === rankBy ? "cv-num cv-key" : "cv-num", Number.isNaN(v) ? "—" : v.toFixed(3));
      });
      const row = el("tr", "cv-clickable", el("td", "cv-num", String(i + 1)), el("td", "", `${node.layer}.${node.head}`), ...cells);
      row.addEventListener("click", () => events.selectNode?.(node));
      body.append(row);
    });
    return el("div", "cv-table-wrap", el("div", "cv-subtitle", "best heads by ", select), el("table", "cv-table", el("thead", "", head), body));
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
