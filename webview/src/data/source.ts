// DataSource: what the app reads and does, whether it talks to a live `circuit serve`
// (LiveSource) or shows a report whose data is inlined in the page (ReportSource).
import type {
  CircuitDoc, CompileResult, Diagnostic, FileEntry, ModelTree, ResultsDoc, Run, Session, Tensor, TensorInfo,
} from './api_types';

export type ConnectionState = 'connecting' | 'open' | 'closed' | 'offline';

// What a source announces: server pushes (runs, saved files) and the connection's state.
export type SourceEvent =
  | { type: 'connection'; state: ConnectionState }
  | { type: 'session'; session: Session }
  | { type: 'run'; run: Run }
  | { type: 'file'; path: string; diagnostics: Diagnostic[] };

export type SourceListener = (event: SourceEvent) => void;

export interface Capabilities {
  edit: boolean;     // files can be saved and compiled
  run: boolean;      // runs can be started and cancelled
  live: boolean;     // events arrive over a connection
}

// A failed request: the server's one-line error and the HTTP status (0: no answer).
export class SourceError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'SourceError';
  }
}

export interface DataSource {
  readonly kind: 'live' | 'report';
  readonly capabilities: Capabilities;

  session(): Promise<Session>;
  listFiles(): Promise<FileEntry[]>;
  readFile(path: string): Promise<string>;
  saveFile(path: string, text: string): Promise<Diagnostic[]>;
  compile(path: string, text: string, signal?: AbortSignal): Promise<CompileResult>;
  model(): Promise<ModelTree | null>;

  runs(): Promise<Run[]>;
  startRun(path: string, text?: string): Promise<Run>;
  cancelRun(id: string): Promise<Run>;
  results(id: string): Promise<ResultsDoc>;
  circuit(id: string): Promise<CircuitDoc>;
  // Where the run's interchange document can be downloaded from (a URL for an <a download>).
  circuitDownloadUrl(id: string): Promise<string>;
  tensors(id: string): Promise<TensorInfo[]>;
  // One tensor, fetched in binary on first use and cached; `rows` takes rows [from, to) of the first axis.
  tensor(id: string, name: string, rows?: [number, number]): Promise<Tensor>;

  subscribe(listener: SourceListener): () => void;
  close(): void;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}
