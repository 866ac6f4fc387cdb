// Small DOM helpers the views share: element creation, a hover tooltip, a HiDPI canvas.
// Part of the webview's views layer.

/** `el("div", "cv-row", child, "text")`: an element with a class and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** A tooltip that follows the pointer inside `host` (which must be position: relative). */
export class Tooltip {
  readonly node: HTMLDivElement;
  constructor(private readonly host: HTMLElement) {
    this.node = el("div", "cv-tooltip");
    this.node.hidden = true;
    host.append(this.node);
  }
  show(event: MouseEvent, lines: string[]): void {
    this.node.replaceChildren(...lines.map((l, i) => el("div", i === 0 ? "cv-tooltip-title" : "", l)));
    this.node.hidden = false;
    const box = this.host.getBoundingClientRect();
    let x = event.clientX - box.left + 12;
    const y = event.clientY - box.top + 12;
    const w = this.node.offsetWidth;
    if (x + w > this.host.clientWidth) x = Math.max(0, event.clientX - box.left - w - 12);
    this.node.style.left = `${x}px`;
    this.node.style.top = `${y}px`;
  }
  hide(): void {
    this.node.hidden = true;
  }
}

/** A canvas sized in CSS pixels, drawn at the device's pixel ratio. */
export function hidpiCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(width * ratio));
  canvas.height = Math.max(1, Math.round(height * ratio));
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("canvas 2d context unavailable");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

/** The width a view may use: the container's, or a default while it is hidden. */
export function availableWidth(container: HTMLElement, fallback = 640): number {
  return container.clientWidth > 0 ? container.clientWidth : fallback;
}

/**
 * Calls `redraw` (once per frame at most) when `container`'s width changes: views whose cells
 * are sized to their pane. Returns what stops it.
 */
export function redrawOnWidthChange(container: HTMLElement, redraw: () => void): () => void {
  let width = container.clientWidth;
  let frame = 0;
  const resize = new ResizeObserver(() => {
    if (container.clientWidth === width || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      width = container.clientWidth;
      redraw();
    });
  });
  resize.observe(container);
  return () => {
    resize.disconnect();
    cancelAnimationFrame(frame);
  };
}
