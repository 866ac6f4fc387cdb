// The web app's result views, one render function per view, and the adapters that feed them
// from results.json, circuit.json and tensors. Part of the webview; the shell imports this file.
import "./views.css";

export * from "./types";
export * from "./adapters";
export { renderCircuitGraph, MAX_VISIBLE_EDGES } from "./circuit_graph";
export { renderAttentionPattern } from "./attention_pattern";
export { renderHeatmap } from "./heatmap";
export { renderPatching } from "./patching";
export { renderLogitLens } from "./logit_lens";
export { renderDla } from "./dla";
export { renderDetectors } from "./detectors";
export { renderClaims } from "./claims";
export { renderProvenance } from "./provenance";
