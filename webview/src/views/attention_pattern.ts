// The attention pattern of one head over one prompt: a query x key heatmap with the prompt's
// tokens on both axes, a selector for the prompt row, the weight on hover. Part of the views.
import { el } from "./dom";
import { showToken } from "./adapters/ids";
import { renderHeatmap } from "./heatmap";
import type { AttentionPatternData, Grid, HeatmapData, ViewEvents, ViewHandle } from "./types";

/** The [q, k] grid of row `row`; positions past the prompt's tokens (padding) are left out. */
export function patternGrid(data: AttentionPatternData, row: number): Grid {
  const [, nq, nk] = data.pattern.shape;
  const tokens = data.tokens?.[row] ?? null;
  const q = tokens ? Math.min(nq, tokens.length) : nq;
  const k = tokens ? Math.min(nk, tokens.length) : nk;
  const values = new Float32Array(q * k);
  const base = row * nq * nk;
  for (let i = 0; i < q; i++) values.set(data.pattern.data.subarray(base + i * nk, base + i * nk + k), i * k);
  const label = (i: number) => (tokens ? `${i} ${showToken(tokens[i])}` : String(i));
  return {
    rows: q,
    cols: k,
    values,
    rowLabels: Array.from({ length: q }, (_, i) => label(i)),
    colLabels: Array.from({ length: k }, (_, i) => label(i)),
    rowAxis: "query",
    colAxis: "key",
    cellNode: null,
  };
}

export function renderAttentionPattern(
  container: HTMLElement,
  data: AttentionPatternData,
  events: ViewEvents = {},
): ViewHandle<AttentionPatternData> {
  const root = el("div", "cv-attention");
  const rowSelect = el("select", "cv-attention-row");
  const prompt = el("div", "cv-attention-prompt");
  const controls = el("div", "cv-toolbar", el("label", "", "prompt ", rowSelect));
  const body = el("div");
  root.append(controls, prompt, body);
  container.append(root);
  let current = data;
  let row = data.row ?? 0;
  let heatmap: ViewHandle<HeatmapData> | null = null;

  function heatmapData(): HeatmapData {
    return {
      title: `attention of head ${current.layer}.${current.head}, prompt ${row}`,
      grid: patternGrid(current, row),
      scale: "sequential",
      range: 1,
      valueLabel: "attention weight",
    };
  }

  function fillRows(): void {
    const rows = current.pattern.shape[0];
    rowSelect.replaceChildren(
      ...Array.from({ length: rows }, (_, r) => {
        const text = current.tokens?.[r] ? current.tokens[r].join("") : "";
        return new Option(`${r}${text ? `: ${text.slice(0, 48)}` : ""}`, String(r));
      }),
    );
    row = Math.min(Math.max(0, row), rows - 1);
    rowSelect.value = String(row);
  }

  function showPrompt(): void {
    const tokens = current.tokens?.[row];
    prompt.replaceChildren(...(tokens ?? []).map((t) => el("span", "cv-token", showToken(t))));
    prompt.hidden = !tokens;
  }

  function draw(): void {
    showPrompt();
    if (heatmap) heatmap.update(heatmapData());
    else heatmap = renderHeatmap(body, heatmapData(), events);
  }

  rowSelect.addEventListener("change", () => {
    row = Number(rowSelect.value);
    draw();
  });
  fillRows();
  draw();

  return {
    update(next: AttentionPatternData) {
      current = next;
      if (next.row !== undefined) row = next.row;
      fillRows();
      draw();
    },
    dispose() {
      heatmap?.dispose();
      root.remove();
    },
  };
}
