// Adapts logit lens, direct logit attribution and head-detector experiments to their views.
import type { DetectorData, DetectorKind, DetectorScores, DlaData, LogitLensData, ResultsDocument, Tensor } from "../types";
import { experiment, experimentTokens, firstAnalysis } from "./experiments";
import { gridFromTensor, headGrid } from "./grid";
import { MLP_ID } from "./ids";

/**
 * The logit lens of experiment NAME from its tensors `NAME/metric` (null for a lens without a
 * metric), `NAME/metric_per_row` and, per position, `NAME/top_tokens` and `NAME/top_probs`.
 */
export function logitLensFromResults(
  results: ResultsDocument,
  name: string,
  metric: Tensor | null,
  perRow: Tensor | null,
  top: { tokens: Tensor; probs: Tensor } | null = null,
): LogitLensData {
  const exp = experiment(results, name);
  const analysis = firstAnalysis(exp);
  const modelValue = analysis?.values?.model;
  const shaped = top !== null && top.tokens.shape.length === 3 && top.tokens.shape.join() === top.probs.shape.join();
  return {
    name,
    metric: "metric",
    perLayer: metric?.data ?? new Float32Array(0),
    modelValue: typeof modelValue === "number" ? modelValue : null,
    grid: perRow && perRow.shape.length === 2 ? gridFromTensor(perRow, "layer", "prompt") : null,
    positions: shaped
      ? { topTokens: top.tokens, topProbs: top.probs, tokenText: analysis?.token_text ?? {}, prompts: experimentTokens(results, exp) }
      : null,
  };
}

/** Direct logit attribution of experiment NAME from its nodes (no tensor needed). */
export function dlaFromResults(results: ResultsDocument, name: string): DlaData | null {
  const analysis = firstAnalysis(experiment(results, name));
  if (!analysis?.nodes) return null;
  const { n_layers: nLayers, n_heads: nHeads } = results.model;
  let mlps: Float32Array | null = null;
  for (const [id, v] of Object.entries(analysis.nodes)) {
    const m = MLP_ID.exec(id);
    if (!m || Number(m[1]) >= nLayers) continue;
    mlps ??= new Float32Array(nLayers).fill(NaN);
    mlps[Number(m[1])] = v ?? NaN;
  }
  const values = analysis.values ?? {};
  const input = analysis.nodes.input ?? values.input;
  return {
    name,
    metric: "metric",
    heads: headGrid(analysis.nodes, nLayers, nHeads),
    mlps,
    input: typeof input === "number" ? input : null,
    bias: typeof values.bias === "number" ? values.bias : null,
    logit: typeof values.logit === "number" ? values.logit : null,
  };
}

const DETECTORS: readonly DetectorKind[] = ["previous_token_score", "induction_score", "duplicate_token_score", "copying_score"];

/** Whether an experiment kind is a head detector (the detectors view draws every one). */
export function isDetector(kind: string): kind is DetectorKind {
  return (DETECTORS as readonly string[]).includes(kind);
}

/** Every head-detector experiment of a run, in program order. */
export function detectorsFromResults(results: ResultsDocument): DetectorData {
  const { n_layers: nLayers, n_heads: nHeads } = results.model;
  const detectors: DetectorScores[] = [];
  for (const exp of results.experiments) {
    if (!isDetector(exp.kind)) continue;
    const nodes = firstAnalysis(exp)?.nodes ?? results.scores?.[exp.name];
    if (!nodes) continue;
    detectors.push({ name: exp.name, kind: exp.kind, grid: headGrid(nodes, nLayers, nHeads) });
  }
  return { nLayers, nHeads, detectors };
}
