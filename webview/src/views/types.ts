// The plain data types the web app's views render, and the shapes of the documents they are
// adapted from (results.json, circuit.json). Part of the webview's views layer: the shell
// fetches documents and tensors, adapters.ts turns them into these types, each view renders one.
//
// Conventions: a grid is row-major; layer rows are numbered from 0 (layer 0 is the first row of
// a heatmap and the bottom row of the circuit graph). Node ids follow the interchange format:
// "input", "a{l}.h{h}", "m{l}", "logits"; edge ids "sender->receiver" with "<q>"/"<k>"/"<v>"
// on a head's input ("a0.h1->a1.h2<k>").

// ---------------------------------------------------------------------------------------------
// Tensors and events shared by every view.

/** A float32 tensor as the data layer fetches it (GET /api/runs/ID/tensors/NAME + X-Shape). */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export type NodeKind = "input" | "attention" | "mlp" | "logits" | "other";

/** A component of the model's computational graph, as the views name it. */
export interface NodeRef {
  id: string; // "a1.h3", "m4", "input", "logits"
  kind: NodeKind;
  layer: number | null;
  head: number | null;
}

/** `file:line:col` of a claim or a diagnostic, parsed. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** What the views tell the shell. Every callback is optional. */
export interface ViewEvents {
  /** A node was clicked (graph node, heatmap head cell, table row): e.g. open its attention. */
  selectNode?(node: NodeRef): void;
  /** An edge of the circuit graph was clicked. */
  selectEdge?(edge: GraphEdge): void;
  /** A claim's location was clicked: e.g. move the editor there. */
  selectLocation?(location: SourceLocation): void;
}

/** What every render function returns. */
export interface ViewHandle<D> {
  /** Re-render with new data (same container, keeps the user's settings where they still apply). */
  update(data: D): void;
  /** Remove the view's DOM, listeners and workers. */
  dispose(): void;
}

// ---------------------------------------------------------------------------------------------
// Heatmaps (patching, detectors, DLA per head, logit lens per prompt).

export type ColourScale = "diverging" | "sequential";

/** A dense rows x cols grid of numbers with labelled axes. NaN marks a cell with no value. */
export interface Grid {
  rows: number;
  cols: number;
  values: Float32Array; // rows * cols, row-major
  rowLabels: string[];
  colLabels: string[];
  rowAxis: string; // "layer"
  colAxis: string; // "head", "position", "prompt"
  /** The node each cell stands for, when a cell is a component (layer x head grids); else null. */
  cellNode: ((row: number, col: number) => NodeRef | null) | null;
}

export interface HeatmapData {
  title: string;
  grid: Grid;
  scale: ColourScale; // diverging: centred at 0; sequential: 0 .. max
  /** Symmetric bound of the colour scale; default max |value| (diverging) or max (sequential). */
  range?: number;
  valueLabel: string; // what a cell holds, shown on hover: "patching effect", "induction score"
  selected?: string | null; // node id to outline
  maxCell?: number; // the largest cell side in px (default 28): small multiples use less
}

/** Activation patching results: one heatmap per sweep (layer x head or layer x position). */
export interface PatchingData {
  name: string; // the experiment
  metric: string;
  heatmaps: HeatmapData[];
}

// ---------------------------------------------------------------------------------------------
// Circuit graph.

export interface GraphNode extends NodeRef {
  label: string; // "1.3", "MLP 4", "embed", "logits"
  score: number | null; // the node's score where one is known (hover, not layout)
  inCircuit: boolean;
}

export interface GraphEdge {
  id: string;
  source: string; // node id
  target: string; // node id
  input: "q" | "k" | "v" | null; // the head input it arrives at
  score: number | null; // null: a hand-written edge with no score (always shown, neutral colour)
  inCircuit: boolean;
}

export interface CircuitGraphData {
  title: string;
  nLayers: number;
  nHeads: number;
  nodes: GraphNode[]; // every node an edge names, plus lone circuit nodes
  edges: GraphEdge[]; // may be tens of thousands (EAP over SmolLM2): the view filters
  /** Initial filter; the user changes it with the slider. Default: the circuit's edges. */
  filter?: EdgeFilter;
  selected?: string | null;
}

export type EdgeFilter =
  | { mode: "circuit" } // the edges with inCircuit
  | { mode: "threshold"; minAbsScore: number } // |score| >= t (unscored edges stay)
  | { mode: "top"; k: number }; // the k largest |score| (unscored edges stay)

export interface CircuitGraphHandle extends ViewHandle<CircuitGraphData> {
  setFilter(filter: EdgeFilter): void;
  select(nodeId: string | null): void;
}

// ---------------------------------------------------------------------------------------------
// Attention pattern of one head.

export interface AttentionPatternData {
  layer: number;
  head: number;
  /** [rows, queries, keys]: one head's pattern for every prompt row. */
  pattern: Tensor;
  /** Token strings per row (results.json tasks[NAME].tokens); null: positions are shown. */
  tokens: string[][] | null;
  row?: number; // the prompt shown first
}

// ---------------------------------------------------------------------------------------------
// Logit lens and direct logit attribution.

export interface LogitLensData {
  name: string;
  metric: string; // "logprob", "logit_diff", ...
  perLayer: Float32Array; // [n_layers] (tensor "<name>/metric")
  modelValue: number | null; // the model's own metric (values.model)
  /** layer x prompt (tensor "<name>/metric_per_row") or layer x position; optional. */
  grid: Grid | null;
  /** The per-position lens (tensors "<name>/top_tokens", "<name>/top_probs"); null when not kept. */
  positions: LogitLensPositions | null;
}

/**
 * The classic logit lens: at every layer and every real token of a prompt, the token the
 * residual stream there predicts. Position i of prompt r is that prompt's i-th real token
 * (left-aligned whatever side the run padded), as results.json `batches` lists them.
 */
export interface LogitLensPositions {
  topTokens: Tensor; // [n_layers, prompts, pos] token ids; -1 past a prompt's end
  topProbs: Tensor; // [n_layers, prompts, pos] their softmax probabilities; NaN past a prompt's end
  tokenText: Record<string, string>; // id -> text (the analysis's `token_text` in results.json)
  prompts: string[][] | null; // each prompt's tokens (results.json `batches`): the column labels
}

export interface DlaData {
  name: string;
  metric: string;
  heads: Grid; // layer x head (tensor "<name>/heads")
  mlps: Float32Array | null; // [n_layers] (tensor "<name>/mlps"), models with MLPs
  input: number | null; // values.input: the embeddings' contribution
  bias: number | null; // values.bias
  logit: number | null; // values.logit: the total the contributions add up to
}

// ---------------------------------------------------------------------------------------------
// Head detectors.

export type DetectorKind =
  | "previous_token_score"
  | "induction_score"
  | "duplicate_token_score"
  | "copying_score";

export interface DetectorScores {
  name: string; // the experiment ("prev_scores")
  kind: DetectorKind;
  grid: Grid; // layer x head
}

export interface DetectorData {
  nLayers: number;
  nHeads: number;
  detectors: DetectorScores[];
  /** Rows in the ranked table (default 20). */
  topK?: number;
}

// ---------------------------------------------------------------------------------------------
// Claims and provenance.

export interface ClaimRow {
  name: string; // "expect.33"
  expression: string;
  comparator: string; // ">=", "<", ...
  threshold: number;
  measured: number | null;
  passed: boolean | null; // null: not measured
  location: SourceLocation | null;
  locationText: string; // as written in results.json
}

export interface ClaimsData {
  claims: ClaimRow[];
  passed: boolean | null; // the run's overall verdict
}

export interface ProvenanceData {
  circuitName: string;
  model: {
    name: string;
    family: string;
    weightsSha256: string | null;
    shape: Record<string, number>; // n_layers, n_heads, d_model, ...
  };
  conditions: Record<string, string>; // device, dtype, model
  tool: string;
  toolVersion: string;
  sourcePath: string;
  sourceSha256: string;
  date: string;
  command: string | null;
  seconds: number | null;
  forwards: number | null;
  backwards: number | null;
  metric: string | null;
  task: string | null;
  /** The interchange document to download: a URL (GET /api/runs/ID/circuit) or a Blob. */
  download: { url: string } | { blob: Blob } | null;
  downloadName: string; // "induction.circuit.json"
}

// ---------------------------------------------------------------------------------------------
// The documents the adapters read. results.json has one definition, generated from its schema
// (schema/results.schema.json -> ../data/results_types.ts); circuit.json's is below (only the
// fields the views use; see docs/interchange.md for the whole).

export type {
  ResultsAnalysis,
  ResultsClaim,
  ResultsDocument,
  ResultsExperiment,
  ResultsSave,
  ResultsSweep,
} from "../data/results_types";

export interface CircuitDocument {
  format: string; // "circuitry.circuit"
  version: number;
  name: string;
  model: {
    name: string;
    family: string;
    shape?: Record<string, number>;
    weights_sha256?: string;
  };
  nodes: {
    id: string;
    kind: string;
    layer?: number;
    head?: number;
    score?: number;
  }[];
  edges: {
    id: string;
    source: string;
    target: string;
    input?: string;
    score?: number;
    in_circuit?: boolean;
  }[];
  claims?: unknown[];
  metric?: { name: string; normalized?: boolean };
  task?: { name: string };
  provenance?: {
    command?: string;
    date?: string;
    source_path?: string;
    source_sha256?: string;
    tool?: string;
    tool_version?: string;
  };
}

/** One thing a results document can show, for the shell's list of views. */
export interface ViewEntry {
  view: "graph" | "attention" | "patching" | "logit_lens" | "dla" | "detectors" | "claims" | "provenance";
  name: string; // experiment or circuit name ("" for claims and provenance)
  title: string;
  /** Tensors (names for GET /api/runs/ID/tensors/NAME) the view's adapter needs. */
  tensors: string[];
  /** A graph of the interchange document (circuit.json) rather than of results.json. */
  document?: boolean;
}
