// Small SVG charts the views share: a line over layers (logit lens) and signed bars per layer
// (DLA), with axes, a zero line and values on hover. Part of the webview's views.
import { formatNumber, SIGN_COLOURS } from "./colour";
import { svg, Tooltip } from "./dom";

const W = 520;
const H = 200;
const PAD = { left: 56, right: 12, top: 24, bottom: 30 };

interface Scale {
  y: (v: number) => number;
  x: (i: number) => number;
  lo: number;
  hi: number;
}

function scale(values: number[], n: number, bars: boolean): Scale {
  const finite = values.filter((v) => Number.isFinite(v));
  let lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.05;
  lo -= lo < 0 ? pad : 0;
  hi += hi > 0 ? pad : 0;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, bars ? n : n - 1);
  return {
    lo,
    hi,
    y: (v) => PAD.top + ((hi - v) / (hi - lo)) * plotH,
    x: (i) => PAD.left + (bars ? (i + 0.5) * step : i * step),
  };
}

function axes(root: SVGSVGElement, s: Scale, labels: string[], yLabel: string): void {
  const zero = svg("line", { x1: PAD.left, x2: W - PAD.right, y1: s.y(0), y2: s.y(0), class: "cv-chart-zero" });
  root.append(zero);
  for (const v of [s.lo, (s.lo + s.hi) / 2, s.hi]) {
    const t = svg("text", { x: PAD.left - 6, y: s.y(v), "text-anchor": "end", "dominant-baseline": "central", class: "cv-chart-tick" });
    t.textContent = formatNumber(v);
    root.append(t);
  }
  const every = Math.max(1, Math.ceil(labels.length / 16));
  labels.forEach((l, i) => {
    if (i % every !== 0) return;
    const t = svg("text", { x: s.x(i), y: H - PAD.bottom + 14, "text-anchor": "middle", class: "cv-chart-tick" });
    t.textContent = l;
    root.append(t);
  });
  const name = svg("text", { x: 4, y: 10, class: "cv-chart-tick" });
  name.textContent = yLabel;
  root.append(name);
}

/** A line over `values` (one point per label), and an optional dashed reference level. */
export function lineChart(
  host: HTMLElement,
  tooltip: Tooltip,
  values: ArrayLike<number>,
  labels: string[],
  yLabel: string,
  reference: { value: number; label: string } | null,
): SVGSVGElement {
  const vs = Array.from(values);
  const s = scale(reference ? vs.concat([reference.value]) : vs, vs.length, false);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "cv-chart" });
  axes(root, s, labels, yLabel);
  if (reference) {
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: s.y(reference.value), y2: s.y(reference.value), class: "cv-chart-ref" }));
  }
  const points = vs.map((v, i) => `${s.x(i).toFixed(1)},${s.y(v).toFixed(1)}`).join(" ");
  root.append(svg("polyline", { points, class: "cv-chart-line" }));
  vs.forEach((v, i) => {
    const dot = svg("circle", { cx: s.x(i), cy: s.y(v), r: 3.5, class: "cv-chart-dot" });
    dot.addEventListener("mousemove", (e) => tooltip.show(e, [`layer ${labels[i]}`, `${yLabel}: ${formatNumber(v)}`, ...(reference ? [`${reference.label}: ${formatNumber(reference.value)}`] : [])]));
    dot.addEventListener("mouseleave", () => tooltip.hide());
    root.append(dot);
  });
  host.append(root);
  return root;
}

/** Signed bars, one group per label; each group may stack several named series side by side. */
export function barChart(
  host: HTMLElement,
  tooltip: Tooltip,
  series: { name: string; values: ArrayLike<number> }[],
  labels: string[],
  yLabel: string,
): SVGSVGElement {
  const all = series.flatMap((s) => Array.from(s.values));
  const s = scale(all, labels.length, true);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "cv-chart" });
  axes(root, s, labels, yLabel);
  const group = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  const bw = Math.max(1, (group * 0.8) / series.length);
  series.forEach((ser, k) => {
    for (let i = 0; i < labels.length; i++) {
      const v = ser.values[i];
      if (!Number.isFinite(v)) continue;
      const x = s.x(i) - (group * 0.8) / 2 + k * bw;
      const y0 = s.y(0);
      const y1 = s.y(v);
      const bar = svg("rect", {
        x,
        y: Math.min(y0, y1),
        width: bw,
        height: Math.max(0.5, Math.abs(y1 - y0)),
        fill: v >= 0 ? SIGN_COLOURS.positive : SIGN_COLOURS.negative,
        "fill-opacity": k === 0 ? 0.9 : 0.55,
        class: "cv-chart-bar",
      });
      bar.addEventListener("mousemove", (e) => tooltip.show(e, [`layer ${labels[i]} ${ser.name}`, `${yLabel}: ${formatNumber(v)}`]));
      bar.addEventListener("mouseleave", () => tooltip.hide());
      root.append(bar);
    }
  });
  host.append(root);
  return root;
}
