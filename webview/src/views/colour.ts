// Colour scales shared by the views: diverging (negative red, 0 white, positive blue, as in the
// patching literature's RdBu maps) and sequential (white to blue). Part of the webview's views.
import type { ColourScale } from "./types";

export type Rgb = [number, number, number];

const WHITE: Rgb = [255, 255, 255];
const BLUE: Rgb = [33, 102, 172]; // positive
const RED: Rgb = [178, 24, 43]; // negative
const DARK_BLUE: Rgb = [8, 48, 107];
const NAN_GREY: Rgb = [221, 221, 221];

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** The colour of `value` on a scale whose bound is `range` (> 0); NaN is grey. */
export function colourOf(value: number, scale: ColourScale, range: number): Rgb {
  if (Number.isNaN(value)) return NAN_GREY;
  const r = range > 0 ? range : 1;
  if (scale === "diverging") {
    const t = Math.min(1, Math.abs(value) / r);
    return mix(WHITE, value >= 0 ? BLUE : RED, t);
  }
  const t = Math.min(1, Math.max(0, value / r));
  return mix(WHITE, DARK_BLUE, t);
}

export function css(rgb: Rgb, alpha = 1): string {
  const [r, g, b] = rgb.map((c) => Math.round(c));
  return alpha >= 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}

/** Text colour readable on `rgb`. */
export function inkOn(rgb: Rgb): string {
  const luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
  return luminance < 140 ? "#fff" : "#222";
}

/** The default bound of a scale over `values`: max |v| (diverging) or max v (sequential). */
export function autoRange(values: ArrayLike<number>, scale: ColourScale): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    m = Math.max(m, scale === "diverging" ? Math.abs(v) : v);
  }
  return m > 0 ? m : 1;
}

/** A number for a label or a tooltip: 4 significant digits, exponent form when tiny or huge. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return v.toPrecision(4).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

export const SIGN_COLOURS = { positive: css(BLUE), negative: css(RED), none: "#888" };
