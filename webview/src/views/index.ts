// The web app's result views, one render function per view, and the adapters that feed them
// from results.json, circuit.json and tensors. Part of the webview; the shell imports this file.
import "./views.css";

export * from "./types";
export { nodeKind, nodeLabel, parseEdgeId, parseLocation, parseNodeId, showToken } from "./adapters/ids";
export { experimentTokens } from "./adapters/experiments";
export { gridFromTensor, headGrid, rankHeads } from "./adapters/grid";
export { patchingFromExperiment } from "./adapters/patching";
export {
  circuitNodeIds, graphFromCircuitDocument, graphFromEdgeScores, graphFromResults, nodeScoresFromResults,
} from "./adapters/circuit_graph";
export { attentionFromTensor, findPatterns, headSlot, headsWithPatterns, type PatternLocation } from "./adapters/attention";
export { detectorsFromResults, dlaFromResults, logitLensFromResults } from "./adapters/lens";
export { claimsFromResults, provenanceFromDocuments } from "./adapters/claims";
export { documentAddsCircuits, viewIndex } from "./adapters/view_index";
export { renderCircuitGraph, MAX_VISIBLE_EDGES } from "./circuit_graph";
export { renderAttentionPattern } from "./attention_pattern";
export { renderHeatmap } from "./heatmap";
export { renderPatching } from "./patching";
export { renderLogitLens } from "./logit_lens";
export { renderDla } from "./dla";
export { renderDetectors } from "./detectors";
export { renderClaims } from "./claims";
export { renderProvenance } from "./provenance";
