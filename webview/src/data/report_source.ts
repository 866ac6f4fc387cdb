// ReportSource: the DataSource of a self-contained report written by
// `circuit view RESULTS --export report.html`: one finished run whose documents and tensors
// (base64 float32) are inlined in the page as <script type="application/json" id="circuit-report">.
// Read-only: nothing can be saved, compiled or run.
import type {
  CircuitDoc, CompileResult, Diagnostic, FileEntry, ModelTree, ResultsDoc, Run, Session, Tensor, TensorInfo,
} from './api_types';
import { type Capabilities, type DataSource, type SourceListener, SourceError, elementCount } from './source';
import { TensorCache } from './tensor_cache';

export const REPORT_ELEMENT_ID = 'circuit-report';
export const REPORT_RUN_ID = 'report';

interface InlineTensor extends TensorInfo {
  data: string;  // base64 of little-endian float32
}

export interface ReportData {
  format: 'circuitry.report';
  version: number;
  tool?: string;
  created?: string;
  results: ResultsDoc;
  circuit: CircuitDoc | null;
  model: ModelTree | null;
  source: { path: string; text: string } | null;
  tensors: InlineTensor[];
}

// The report's data when this page is a report, else null.
export function inlinedReport(doc: Document = document): ReportData | null {
  const element = doc.getElementById(REPORT_ELEMENT_ID);
  if (!element || !element.textContent) return null;
  const data = JSON.parse(element.textContent) as ReportData;
  if (data.format !== 'circuitry.report') throw new Error(`#${REPORT_ELEMENT_ID}: not a circuitry.report`);
  return data;
}

function decodeFloat32(base64: string, name: string, count: number): Float32Array {
  const binary = atob(base64);
  if (binary.length !== count * 4) throw new SourceError(`tensor ${name}: ${binary.length} bytes for ${count} floats`, 0);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; ++i) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

function readOnly(what: string): never {
  throw new SourceError(`${what}: this is a report (read-only); open the .circuit file with circuit serve to change it`, 405);
}

export class ReportSource implements DataSource {
  readonly kind = 'report' as const;
  readonly capabilities: Capabilities = { edit: false, run: false, live: false };
  private readonly cache = new TensorCache(512 * 1024 * 1024);
  private readonly run: Run;
  private downloadUrl: string | null = null;

  constructor(private readonly data: ReportData) {
    const results = data.results;
    this.run = {
      id: REPORT_RUN_ID,
      path: data.source?.path ?? results.source ?? 'report',
      state: 'done',
      seconds: results.seconds ?? null,
      passed: results.passed ?? null,
      results: null,
      finished: data.created ?? null,
    };
  }

  private file(): FileEntry[] {
    const s = this.data.source;
    return s ? [{ path: s.path, size: s.text.length, modified: this.data.created ?? '' }] : [];
  }

  private modelSummary(): Session['model'] {
    if (this.data.model) return this.data.model;
    const m = this.data.results.model;
    return m && m.name ? { name: m.name, family: m.family ?? '', n_layers: m.n_layers ?? 0, n_heads: m.n_heads ?? 0 } : null;
  }

  async session(): Promise<Session> {
    return { version: this.data.tool ?? '', workspace: '', model: this.modelSummary(), files: this.file(), runs: [this.run] };
  }

  async listFiles(): Promise<FileEntry[]> {
    return this.file();
  }

  async readFile(path: string): Promise<string> {
    const s = this.data.source;
    if (!s || s.path !== path) throw new SourceError(`${path}: not in this report`, 404);
    return s.text;
  }

  async saveFile(path: string, _text: string): Promise<Diagnostic[]> {
    return readOnly(`save ${path}`);
  }

  async compile(path: string, _text: string): Promise<CompileResult> {
    return readOnly(`compile ${path}`);
  }

  // The report's model tree; without one, the layers and heads of the interchange document's
  // model shape (no hook points: the report does not know them).
  async model(): Promise<ModelTree | null> {
    if (this.data.model) return this.data.model;
    const m = this.data.circuit?.model;
    const shape = m?.shape;
    if (!m || !shape || !shape.n_layers || !shape.n_heads) return null;
    return {
      name: m.name ?? this.data.results.model?.name ?? 'model',
      family: m.family ?? '',
      n_layers: shape.n_layers,
      n_heads: shape.n_heads,
      n_kv_heads: shape.n_kv_heads,
      d_model: shape.d_model,
      d_head: shape.d_head,
      d_mlp: shape.d_mlp,
      d_vocab: shape.d_vocab,
      n_ctx: shape.n_ctx,
      hook_points: [],
    };
  }

  async runs(): Promise<Run[]> {
    return [this.run];
  }

  async startRun(path: string): Promise<Run> {
    return readOnly(`run ${path}`);
  }

  async cancelRun(id: string): Promise<Run> {
    return readOnly(`cancel ${id}`);
  }

  private check(id: string): void {
    if (id !== REPORT_RUN_ID) throw new SourceError(`run ${id}: not in this report`, 404);
  }

  async results(id: string): Promise<ResultsDoc> {
    this.check(id);
    return this.data.results;
  }

  async circuit(id: string): Promise<CircuitDoc> {
    this.check(id);
    if (!this.data.circuit) throw new SourceError('circuit.json: not in this report', 404);
    return this.data.circuit;
  }

  async circuitDownloadUrl(id: string): Promise<string> {
    const doc = await this.circuit(id);
    this.downloadUrl ??= URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
    return this.downloadUrl;
  }

  async tensors(id: string): Promise<TensorInfo[]> {
    this.check(id);
    return this.data.tensors.map(({ name, dtype, shape }) => ({ name, dtype, shape }));
  }

  tensor(id: string, name: string, rows?: [number, number]): Promise<Tensor> {
    return this.cache.get(`${id}\n${name}\n${rows ? rows.join('..') : ''}`, async () => {
      this.check(id);
      const inline = this.data.tensors.find((t) => t.name === name);
      if (!inline) throw new SourceError(`tensor ${name}: not in this report`, 404);
      const full = decodeFloat32(inline.data, name, elementCount(inline.shape));
      if (!rows) return { name, shape: [...inline.shape], data: full };
      const [from, to] = rows;
      const first = inline.shape[0] ?? 0;
      if (!(0 <= from && from <= to && to <= first)) throw new SourceError(`tensor ${name}: rows ${from}..${to} out of 0..${first}`, 400);
      const rowSize = elementCount(inline.shape.slice(1));
      return { name, shape: [to - from, ...inline.shape.slice(1)], data: full.slice(from * rowSize, to * rowSize) };
    });
  }

  subscribe(_listener: SourceListener): () => void {
    return () => {};
  }

  close(): void {
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
  }
}
