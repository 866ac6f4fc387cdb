// Adapts a run's experiments for the views that read them: an experiment by name, its first analysis, its prompts' tokens.
import type { ResultsDocument, ResultsExperiment } from "../types";

/** Experiment NAME of a run; undefined when the run has none. */
export function experiment(results: ResultsDocument, name: string): ResultsExperiment | undefined {
  return results.experiments.find((e) => e.name === name);
}

/** An experiment's first analysis (the one the views draw); undefined when it has none. */
export function firstAnalysis(exp: ResultsExperiment | undefined) {
  return exp?.analyses?.[0];
}

/**
 * Token strings of the prompts an experiment ran on: its first batch with tokens (results.json
 * `batches`, clean prompts first); null when the run has none.
 */
export function experimentTokens(results: ResultsDocument, exp: ResultsExperiment | undefined): string[][] | null {
  for (const name of exp?.batches ?? []) {
    const tokens = results.batches?.[name]?.tokens;
    if (tokens) return tokens;
  }
  return null;
}
