// The data the server's API (docs/server-api.md) and a run's result files carry, as
// TypeScript types: the one description of them that the data layer and the app share.

export interface FileEntry {
  path: string;
  size: number;
  modified: string;
}

export interface DiagnosticNote {
  message: string;
  line: number;
  col: number;
}

// 1-based lines and columns; the end is exclusive.
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  end_line: number;
  end_col: number;
  severity: 'error' | 'warning';
  code: string;
  message: string;
  hint?: string;
  notes?: DiagnosticNote[];
}

export interface CompileResult {
  path: string;
  diagnostics: Diagnostic[];
  ms?: number;
}

export interface ModelSummary {
  name: string;
  family: string;
  n_layers: number;
  n_heads: number;
  n_kv_heads?: number;
  d_model?: number;
  d_head?: number;
  d_mlp?: number;
  d_vocab?: number;
  n_ctx?: number;
}

// A hook point's shape: symbolic axes ("batch", "pos") and numbers.
export type Axis = string | number;

export interface HookPoint {
  name: string;
  layer?: number | null;
  shape: Axis[];
  doc?: string;      // what it holds, one line
  opt_in?: boolean;  // computed only when a plan reads it (it costs extra work)
}

export interface ModelTree extends ModelSummary {
  parameters?: number;
  dtype?: string;
  hook_points: HookPoint[];
}

export type RunState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface RunProgress {
  done: number;
  total: number;
  label?: string;
}

export interface Run {
  id: string;
  path: string;
  state: RunState;
  progress?: RunProgress | null;
  error?: string | null;
  started?: string | null;
  finished?: string | null;
  seconds?: number | null;
  passed?: boolean | null;
  results?: string | null;
}

export interface Session {
  version: string;
  workspace: string;
  model: ModelSummary | null;
  files: FileEntry[];
  runs: Run[];
}

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
}

// A tensor as the views use it: row-major float32 data and its shape.
export interface Tensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

// results.json (session/results_writer.cpp): its one definition, generated from
// schema/results.schema.json (results_types.ts). `ResultsDoc` is the data layer's name for it.
export type { ResultsClaim, ResultsDocument as ResultsDoc } from './results_types';

// circuit.json: the interchange document (docs/interchange.md).
export interface CircuitDoc {
  format: string;
  name?: string;
  model?: { name?: string; family?: string; shape?: Record<string, number>; weights_sha256?: string };
  nodes?: Array<Record<string, unknown>>;
  edges?: Array<Record<string, unknown>>;
  claims?: Array<Record<string, unknown>>;
  provenance?: Record<string, unknown>;
  [key: string]: unknown;
}
