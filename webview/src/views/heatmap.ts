// A heatmap of a Grid on one canvas (layer x head, layer x position, query x key): labelled
// axes, a colour legend, the value on hover, click on a component cell. Part of the webview's
// views; the patching, detector, DLA, logit-lens and attention views are built on it.
import { autoRange, colourOf, css, formatNumber, inkOn } from "./colour";
import { availableWidth, el, hidpiCanvas, redrawOnWidthChange, Tooltip } from "./dom";
import type { HeatmapData, ViewEvents, ViewHandle } from "./types";

const MAX_CELL = 28;
const MIN_CELL = 3;
const FONT = "11px system-ui, sans-serif";

interface Geometry {
  left: number; // x of the first column
  top: number; // y of the first row
  cell: number; // square cell side
  width: number;
  height: number;
}

function labelWidth(ctx: CanvasRenderingContext2D, labels: string[]): number {
  let w = 0;
  // Measuring every label of a long axis costs more than it gains: sample at most 200.
  const step = Math.max(1, Math.floor(labels.length / 200));
  for (let i = 0; i < labels.length; i += step) w = Math.max(w, ctx.measureText(labels[i]).width);
  return Math.min(w, 140);
}

function clip(text: string, max = 18): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A number short enough for a cell: blank when it is under 1% of the scale. */
function cellText(v: number, range: number): string {
  if (Math.abs(v) < range * 0.01) return "";
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (range >= 0.1) return v.toFixed(2).replace(/^(-?)0\./, "$1.");
  return v.toPrecision(2);
}

export function renderHeatmap(container: HTMLElement, data: HeatmapData, events: ViewEvents = {}): ViewHandle<HeatmapData> {
  const root = el("div", "cv-heatmap");
  const title = el("div", "cv-title");
  const canvas = el("canvas", "cv-heatmap-canvas");
  const legend = el("div", "cv-legend");
  root.append(title, canvas, legend);
  container.append(root);
  const tooltip = new Tooltip(root);
  let current = data;
  let geometry: Geometry = { left: 0, top: 0, cell: 0, width: 0, height: 0 };
  let range = 1;

  function draw(): void {
    const { grid } = current;
    title.textContent = current.title;
    range = current.range ?? autoRange(grid.values, current.scale);
    const probe = canvas.getContext("2d")!;
    probe.font = FONT;
    const rowLabels = grid.rowLabels.map((l) => clip(l));
    const colLabels = grid.colLabels.map((l) => clip(l));
    const left = labelWidth(probe, rowLabels) + 26;
    const colLabelW = labelWidth(probe, colLabels);
    const rotate = colLabelW > 16;
    const top = (rotate ? colLabelW * 0.75 + 8 : 14) + 14;
    const avail = availableWidth(container) - left - 8;
    const cell = Math.max(MIN_CELL, Math.min(current.maxCell ?? MAX_CELL, Math.floor(avail / Math.max(1, grid.cols))));
    const width = left + cell * grid.cols + 4;
    const height = top + cell * grid.rows + 4;
    geometry = { left, top, cell, width, height };
    const ctx = hidpiCanvas(canvas, width, height);
    ctx.font = FONT;
    ctx.clearRect(0, 0, width, height);
    const showValues = cell >= 26 && grid.rows * grid.cols <= 400;
    for (let r = 0; r < grid.rows; r++) {
      for (let c = 0; c < grid.cols; c++) {
        const v = grid.values[r * grid.cols + c];
        const rgb = colourOf(v, current.scale, range);
        ctx.fillStyle = css(rgb);
        ctx.fillRect(left + c * cell, top + r * cell, cell, cell);
        if (showValues && !Number.isNaN(v)) {
          ctx.fillStyle = inkOn(rgb);
          ctx.textAlign = "center";
          ctx.textBaseline = "middle";
          ctx.font = "9px system-ui, sans-serif";
          ctx.fillText(cellText(v, range), left + c * cell + cell / 2, top + r * cell + cell / 2);
          ctx.font = FONT;
        }
      }
    }
    // Axis labels: every label when they fit, else every k-th.
    ctx.fillStyle = "#333";
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    const rowStep = Math.max(1, Math.ceil(12 / cell));
    for (let r = 0; r < grid.rows; r += rowStep) ctx.fillText(rowLabels[r], left - 4, top + r * cell + cell / 2);
    const colStep = Math.max(1, Math.ceil((rotate ? 12 : colLabelW + 6) / cell));
    for (let c = 0; c < grid.cols; c += colStep) {
      const x = left + c * cell + cell / 2;
      if (rotate) {
        ctx.save();
        ctx.translate(x, top - 4);
        ctx.rotate(-Math.PI / 4);
        ctx.textAlign = "left";
        ctx.fillText(colLabels[c], 0, 0);
        ctx.restore();
      } else {
        ctx.textAlign = "center";
        ctx.fillText(colLabels[c], x, top - 8);
      }
    }
    // Axis names.
    ctx.fillStyle = "#777";
    ctx.textAlign = "left";
    ctx.fillText(`${grid.rowAxis} ↓  ${grid.colAxis} →`, 2, 8);
    // The selected component.
    if (current.selected && grid.cellNode) {
      for (let r = 0; r < grid.rows; r++) {
        for (let c = 0; c < grid.cols; c++) {
          if (grid.cellNode(r, c)?.id !== current.selected) continue;
          ctx.strokeStyle = "#f0a000";
          ctx.lineWidth = 2;
          ctx.strokeRect(left + c * cell + 1, top + r * cell + 1, cell - 2, cell - 2);
        }
      }
    }
    drawLegend();
  }

  function drawLegend(): void {
    const lo = current.scale === "diverging" ? -range : 0;
    const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => css(colourOf(lo + (range - lo) * t, current.scale, range)));
    const bar = el("span", "cv-legend-bar");
    bar.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
    legend.replaceChildren(el("span", "", formatNumber(lo)), bar, el("span", "", formatNumber(range)), el("span", "cv-legend-label", current.valueLabel));
  }

  function cellAt(event: MouseEvent): { r: number; c: number } | null {
    const box = canvas.getBoundingClientRect();
    const x = event.clientX - box.left - geometry.left;
    const y = event.clientY - box.top - geometry.top;
    if (x < 0 || y < 0) return null;
    const c = Math.floor(x / geometry.cell);
    const r = Math.floor(y / geometry.cell);
    const { grid } = current;
    return r < grid.rows && c < grid.cols ? { r, c } : null;
  }

  function onMove(event: MouseEvent): void {
    const at = cellAt(event);
    if (!at) {
      tooltip.hide();
      canvas.style.cursor = "";
      return;
    }
    const { grid } = current;
    const v = grid.values[at.r * grid.cols + at.c];
    const node = grid.cellNode?.(at.r, at.c) ?? null;
    canvas.style.cursor = node && events.selectNode ? "pointer" : "";
    tooltip.show(event, [
      node ? `head ${node.layer}.${node.head}` : `${grid.rowAxis} ${grid.rowLabels[at.r]}, ${grid.colAxis} ${grid.colLabels[at.c]}`,
      `${current.valueLabel}: ${formatNumber(v)}`,
    ]);
  }

  function onClick(event: MouseEvent): void {
    const at = cellAt(event);
    const node = at ? current.grid.cellNode?.(at.r, at.c) : null;
    if (node && events.selectNode) {
      current = { ...current, selected: node.id };
      draw();
      events.selectNode(node);
    }
  }

  // Cells are sized to the container: redraw when its width changes (a resized pane).
  const stopResizing = redrawOnWidthChange(container, () => draw());
  canvas.addEventListener("mousemove", onMove);
  canvas.addEventListener("mouseleave", () => tooltip.hide());
  canvas.addEventListener("click", onClick);
  draw();

  return {
    update(next: HeatmapData) {
      current = next;
      draw();
    },
    dispose() {
      stopResizing();
      root.remove();
    },
  };
}
