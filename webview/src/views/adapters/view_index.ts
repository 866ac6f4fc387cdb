// Adapts a run's results.json to the list of views it supports (the results pane's tabs) and the tensors each needs.
import type { ResultsDocument, ViewEntry } from "../types";
import { firstAnalysis } from "./experiments";
import { isDetector } from "./lens";

const CIRCUIT_MEASURES = new Set(["faithfulness", "completeness", "minimality", "circuit_curve"]);

/**
 * Whether the run's interchange document (circuit.json) is worth a graph of its own: it holds
 * the union of every circuit the run discovered or measured, so it adds something only when it
 * has edges beyond the `circuits` results.json lists (a circuit written in the file). Results
 * from before `document` was written: when they list no circuits.
 */
export function documentAddsCircuits(results: ResultsDocument): boolean {
  const listed = new Set<string>();
  for (const edges of Object.values(results.circuits ?? {})) for (const id of edges) listed.add(id);
  if (results.document) return results.document.edges > listed.size;
  return listed.size === 0 && results.experiments.some((e) => (e.analyses ?? []).some((a) => CIRCUIT_MEASURES.has(a.kind)));
}

/** The views a results document supports, with the tensors each needs, in a sensible order. */
export function viewIndex(results: ResultsDocument, documentName: string | null = null): ViewEntry[] {
  const entries: ViewEntry[] = [];
  for (const name of Object.keys(results.circuits ?? {})) {
    entries.push({ view: "graph", name, title: `circuit ${name}`, tensors: [] });
  }
  // The document's graph (circuits written in the file) follows the listed ones.
  const docName = results.document?.name ?? documentName;
  if (docName !== null && documentAddsCircuits(results)) {
    entries.push({ view: "graph", name: docName, title: `circuits of ${docName} (circuit.json)`, tensors: [], document: true });
  }
  let detectors = false;
  for (const exp of results.experiments) {
    const analysis = firstAnalysis(exp);
    switch (exp.kind) {
      case "activation_patching":
        entries.push({ view: "patching", name: exp.name, title: `patching ${exp.name}`, tensors: [] });
        break;
      case "logit_lens": {
        const tensors = [`${exp.name}/metric`];
        if (analysis?.tensors?.metric_per_row) tensors.push(`${exp.name}/metric_per_row`);
        entries.push({ view: "logit_lens", name: exp.name, title: `logit lens ${exp.name}`, tensors });
        break;
      }
      case "dla":
        entries.push({ view: "dla", name: exp.name, title: `DLA ${exp.name}`, tensors: [] });
        break;
      case "attention":
        entries.push({
          view: "attention",
          name: exp.name,
          title: `attention ${exp.name}`,
          tensors: (exp.passes ?? []).flatMap((p) => p.saves.map((s) => `${exp.name}/${s.hook}`)),
        });
        break;
      default:
        if (isDetector(exp.kind) && !detectors) {
          detectors = true;
          entries.push({ view: "detectors", name: "", title: "head detectors", tensors: [] });
        }
    }
  }
  if ((results.claims ?? []).length > 0) entries.push({ view: "claims", name: "", title: "claims", tensors: [] });
  entries.push({ view: "provenance", name: "", title: "provenance", tensors: [] });
  return entries;
}
