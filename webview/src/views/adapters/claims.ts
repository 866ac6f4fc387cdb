// Adapts a run's claims (results.json) and its provenance (results.json with circuit.json) to the claims and provenance views.
import type { CircuitDocument, ClaimsData, ProvenanceData, ResultsDocument } from "../types";
import { parseLocation } from "./ids";

/** Every claim of a run, measured or NOT RUN, with the source location it was written at. */
export function claimsFromResults(results: ResultsDocument): ClaimsData {
  return {
    passed: results.passed ?? null,
    claims: (results.claims ?? []).map((c) => ({
      name: c.name,
      expression: c.expression,
      comparator: c.comparator,
      // A claim no stage measured has its bound as written, no threshold: NOT RUN.
      threshold: "threshold" in c ? c.threshold : NaN,
      measured: typeof c.measured === "number" ? c.measured : null,
      passed: "threshold" in c ? c.passed : null,
      location: parseLocation(c.location),
      locationText: c.location ?? "",
    })),
  };
}

/** Where a run's circuit came from: model, conditions, tool, source, cost; `download` offers circuit.json. */
export function provenanceFromDocuments(
  results: ResultsDocument,
  doc: CircuitDocument,
  download: ProvenanceData["download"],
): ProvenanceData {
  const p = doc.provenance ?? {};
  const conditions: Record<string, string> = {};
  for (const [k, v] of Object.entries(results.conditions ?? {})) conditions[k] = String(v);
  return {
    circuitName: doc.name,
    model: {
      name: doc.model.name,
      family: doc.model.family,
      weightsSha256: doc.model.weights_sha256 ?? null,
      shape: doc.model.shape ?? {},
    },
    conditions,
    tool: p.tool ?? "circuitry",
    toolVersion: p.tool_version ?? "",
    sourcePath: p.source_path ?? results.source,
    sourceSha256: p.source_sha256 ?? "",
    date: p.date ?? "",
    command: p.command ?? null,
    seconds: results.seconds ?? null,
    forwards: results.forwards ?? null,
    backwards: results.backwards ?? null,
    metric: doc.metric ? `${doc.metric.name}${doc.metric.normalized ? " (normalized)" : ""}` : null,
    task: doc.task?.name ?? null,
    download,
    downloadName: `${doc.name}.circuit.json`,
  };
}
