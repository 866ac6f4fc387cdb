// The logit lens per position: for one prompt, a layer x position grid whose cells show the
// token the residual stream after that layer predicts at that position (its top-1 token after
// the final norm and the unembedding), coloured by its probability. Layer 0 is the top row, as
// in every heatmap of the views; columns are the prompt's tokens. Part of the webview's views;
// logit_lens.ts mounts it below the per-layer chart.
import { showToken } from "./adapters/ids";
import { colourOf, css, formatNumber, inkOn } from "./colour";
import { availableWidth, el, hidpiCanvas, redrawOnWidthChange, Tooltip } from "./dom";
import type { LogitLensPositions } from "./types";

/** One prompt's lens: `layers` x `positions` cells, row-major, layer 0 first. */
export interface LensPromptGrid {
  prompt: number;
  layers: number;
  positions: number;
  inputs: string[]; // the prompt's token at each position ("" when results.json has no tokens)
  ids: Int32Array; // the predicted token per cell
  probs: Float32Array; // its probability per cell
  texts: string[]; // the predicted token's text per cell
}

/** How many prompts the lens kept (top_tokens' second axis). */
export function lensPromptCount(p: LogitLensPositions): number {
  return p.topTokens.shape[1] ?? 0;
}

/** The text of a predicted id: results.json's `token_text`, else `#id`. */
export function predictedText(p: LogitLensPositions, id: number): string {
  return p.tokenText[String(id)] ?? `#${id}`;
}

/** Prompt `prompt`'s cells, cut to its real tokens (top_tokens holds -1 past its end). */
export function lensPromptGrid(p: LogitLensPositions, prompt: number): LensPromptGrid {
  const [layers, prompts, width] = p.topTokens.shape;
  if (prompt < 0 || prompt >= prompts) throw new Error(`logit lens: prompt ${prompt} outside 0..${prompts - 1}`);
  let positions = 0;
  const base = (l: number) => (l * prompts + prompt) * width;
  while (positions < width && p.topTokens.data[base(0) + positions] >= 0) positions++;
  const labels = p.prompts?.[prompt] ?? null;
  const ids = new Int32Array(layers * positions);
  const probs = new Float32Array(layers * positions);
  const texts: string[] = new Array(layers * positions);
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < positions; i++) {
      const cell = l * positions + i;
      ids[cell] = p.topTokens.data[base(l) + i];
      probs[cell] = p.topProbs.data[base(l) + i];
      texts[cell] = predictedText(p, ids[cell]);
    }
  }
  const inputs = Array.from({ length: positions }, (_, i) => labels?.[i] ?? "");
  return { prompt, layers, positions, inputs, ids, probs, texts };
}

/** `text` cut to `max` characters with an ellipsis, whitespace made visible. */
export function clipToken(text: string, max: number): string {
  const shown = showToken(text);
  if (max <= 0) return "";
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown;
}

/** The hover text of a cell: "layer L, position P 'tok': predicts 'X' (p = 0.43)". */
export function lensCellTooltip(grid: LensPromptGrid, layer: number, position: number): string {
  const cell = layer * grid.positions + position;
  const input = grid.inputs[position] ? ` '${showToken(grid.inputs[position])}'` : "";
  return `layer ${layer}, position ${position}${input}: predicts '${showToken(grid.texts[cell])}' (p = ${formatNumber(grid.probs[cell])})`;
}

/** A prompt's label in the picker: its index and its first tokens. */
export function promptLabel(p: LogitLensPositions, prompt: number): string {
  const text = p.prompts?.[prompt]?.join("") ?? "";
  return text ? `${prompt}: ${text.slice(0, 48)}` : String(prompt);
}

const FONT = "11px system-ui, sans-serif";
const CELL_FONT = "10px system-ui, sans-serif";
const CELL_H = 20;
const MAX_CELL_W = 64;
const MIN_CELL_W = 30;
const CHAR_W = 6; // about one character of CELL_FONT

export interface LensGridHandle {
  update(p: LogitLensPositions): void;
  dispose(): void;
}

/** The per-position grid with a prompt picker (shown when the lens kept several prompts). */
export function renderLensGrid(container: HTMLElement, data: LogitLensPositions): LensGridHandle {
  const root = el("div", "cv-lens-grid");
  root.style.position = "relative"; // the tooltip's frame
  const select = el("select", "cv-lens-prompt");
  const picker = el("label", "", "prompt ", select);
  const title = el("div", "cv-title", "top token per layer and position");
  const note = el("div", "cv-note", "layer 0 at the top; each cell: the token the residual stream after that layer predicts there, coloured by its probability");
  const scroll = el("div", "cv-lens-scroll");
  scroll.style.overflowX = "auto"; // long prompts scroll rather than shrink cells past legibility
  const canvas = el("canvas", "cv-lens-canvas");
  scroll.append(canvas);
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => css(colourOf(t, "sequential", 1)));
  const bar = el("span", "cv-legend-bar");
  bar.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
  const legend = el("div", "cv-legend", el("span", "", "0"), bar, el("span", "", "1"), el("span", "cv-legend-label", "probability of the top token"));
  root.append(el("div", "cv-toolbar", title, picker), note, scroll, legend);
  container.append(root);
  const tooltip = new Tooltip(root);
  let current = data;
  let prompt = 0;
  let grid: LensPromptGrid | null = null;
  let geometry = { left: 0, top: 0, cellW: MAX_CELL_W };

  function fillPrompts(): void {
    const n = lensPromptCount(current);
    select.replaceChildren(...Array.from({ length: n }, (_, r) => new Option(promptLabel(current, r), String(r))));
    prompt = Math.min(Math.max(0, prompt), Math.max(0, n - 1));
    select.value = String(prompt);
    picker.hidden = n <= 1;
  }

  function draw(): void {
    grid = lensPromptCount(current) > 0 ? lensPromptGrid(current, prompt) : null;
    if (!grid) {
      canvas.hidden = true;
      return;
    }
    canvas.hidden = false;
    const g = grid;
    const left = 52;
    const top = 22;
    const avail = availableWidth(container) - left - 8;
    const cellW = Math.max(MIN_CELL_W, Math.min(MAX_CELL_W, Math.floor(avail / Math.max(1, g.positions))));
    geometry = { left, top, cellW };
    const width = left + cellW * g.positions + 4;
    const height = top + CELL_H * g.layers + 4;
    const ctx = hidpiCanvas(canvas, width, height);
    ctx.clearRect(0, 0, width, height);
    const chars = Math.floor((cellW - 4) / CHAR_W);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = CELL_FONT;
    for (let l = 0; l < g.layers; l++) {
      for (let i = 0; i < g.positions; i++) {
        const cell = l * g.positions + i;
        const rgb = colourOf(g.probs[cell], "sequential", 1);
        const x = left + i * cellW;
        const y = top + l * CELL_H;
        ctx.fillStyle = css(rgb);
        ctx.fillRect(x, y, cellW - 1, CELL_H - 1);
        ctx.fillStyle = inkOn(rgb);
        ctx.fillText(clipToken(g.texts[cell], chars), x + cellW / 2, y + CELL_H / 2);
      }
    }
    ctx.font = FONT;
    ctx.fillStyle = "#333";
    for (let i = 0; i < g.positions; i++) {
      const label = g.inputs[i] ? clipToken(g.inputs[i], chars) : String(i);
      ctx.fillText(label, left + i * cellW + cellW / 2, top - 9);
    }
    ctx.textAlign = "right";
    for (let l = 0; l < g.layers; l++) ctx.fillText(String(l), left - 6, top + l * CELL_H + CELL_H / 2);
    ctx.textAlign = "left";
    ctx.fillStyle = "#777";
    ctx.fillText("layer ↓", 2, top - 9);
  }

  function cellAt(event: MouseEvent): { layer: number; position: number } | null {
    if (!grid) return null;
    const box = canvas.getBoundingClientRect();
    const x = event.clientX - box.left - geometry.left;
    const y = event.clientY - box.top - geometry.top;
    if (x < 0 || y < 0) return null;
    const position = Math.floor(x / geometry.cellW);
    const layer = Math.floor(y / CELL_H);
    return layer < grid.layers && position < grid.positions ? { layer, position } : null;
  }

  function onMove(event: MouseEvent): void {
    const at = cellAt(event);
    if (!at || !grid) {
      tooltip.hide();
      return;
    }
    tooltip.show(event, [lensCellTooltip(grid, at.layer, at.position)]);
  }

  select.addEventListener("change", () => {
    prompt = Number(select.value);
    tooltip.hide();
    draw();
  });
  canvas.addEventListener("mousemove", onMove);
  canvas.addEventListener("mouseleave", () => tooltip.hide());
  // Cells are sized to the container: redraw when its width changes (a resized pane).
  const stopResizing = redrawOnWidthChange(container, () => draw());
  fillPrompts();
  draw();

  return {
    update(next: LogitLensPositions) {
      current = next;
      fillPrompts();
      draw();
    },
    dispose() {
      stopResizing();
      root.remove();
    },
  };
}
