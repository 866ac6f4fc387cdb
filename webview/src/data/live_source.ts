// LiveSource: the DataSource of a running `circuit serve`, over its HTTP API and the
// /api/events WebSocket (docs/server-api.md). Tensors come in binary (float32 + X-Shape).
import type {
  CircuitDoc, CompileResult, Diagnostic, FileEntry, ModelTree, ResultsDoc, Run, Session, Tensor, TensorInfo,
} from './api_types';
import { EventStream, type ServerMessage } from './event_stream';
import { type Capabilities, type DataSource, type SourceListener, SourceError, elementCount } from './source';
import { TensorCache } from './tensor_cache';

const TENSOR_CACHE_BYTES = 256 * 1024 * 1024;

// The access token of a server bound to another address: from ?token= on the page's address,
// kept for the tab so that reloading a bookmark without it still works.
function accessToken(): string | null {
  const fromUrl = new URLSearchParams(window.location.search).get('token');
  try {
    if (fromUrl) sessionStorage.setItem('circuit-token', fromUrl);
    return fromUrl ?? sessionStorage.getItem('circuit-token');
  } catch {
    return fromUrl;  // storage can be disabled; the address still carries the token
  }
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export class LiveSource implements DataSource {
  readonly kind = 'live' as const;
  readonly capabilities: Capabilities = { edit: true, run: true, live: true };
  private readonly listeners = new Set<SourceListener>();
  private readonly cache = new TensorCache(TENSOR_CACHE_BYTES);
  private readonly token = accessToken();
  private readonly events: EventStream;
  private modelTree: Promise<ModelTree | null> | null = null;

  constructor(private readonly origin: string = window.location.origin) {
    const ws = new URL('/api/events', origin);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.token) ws.searchParams.set('token', this.token);
    this.events = new EventStream(ws.toString(), (m) => this.onMessage(m),
      (state) => this.emit({ type: 'connection', state }));
  }

  private emit(event: Parameters<SourceListener>[0]): void {
    for (const l of this.listeners) l(event);
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'hello':
        // A new connection may be a restarted server whose run ids (r1, ...) mean other runs.
        this.cache.clear();
        this.modelTree = null;
        this.emit({ type: 'session', session: message.session });
        break;
      case 'run':
        if (message.run.state === 'done' && message.run.results) {
          // A finished run rewrote results/<stem>/: what was cached of it is stale.
          const stem = message.run.results.split('/').pop() ?? '';
          this.cache.clear(`saved:${stem}\n`);
        }
        this.emit({ type: 'run', run: message.run });
        break;
      case 'file':
        this.emit({ type: 'file', path: message.path, diagnostics: message.diagnostics });
        break;
      case 'pong':
        break;
    }
  }

  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers['Authorization'] = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(new URL(path, this.origin), {
        method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new SourceError(`${method} ${path}: the server does not answer`, 0);
    }
    if (!response.ok) {
      let message = `${method} ${path}: HTTP ${response.status}`;
      try {
        const answer = (await response.json()) as { error?: string };
        if (answer.error) message = answer.error;
      } catch {
        // not JSON: keep the status line
      }
      throw new SourceError(message, response.status);
    }
    return response;
  }

  private async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return (await (await this.request(method, path, body, signal)).json()) as T;
  }

  session(): Promise<Session> {
    return this.json('GET', '/api/session');
  }

  async listFiles(): Promise<FileEntry[]> {
    return (await this.json<{ files: FileEntry[] }>('GET', '/api/files')).files;
  }

  async readFile(path: string): Promise<string> {
    return (await this.json<{ text: string }>('GET', `/api/files/${encodePath(path)}`)).text;
  }

  async saveFile(path: string, text: string): Promise<Diagnostic[]> {
    return (await this.json<{ diagnostics: Diagnostic[] }>('PUT', `/api/files/${encodePath(path)}`, { text })).diagnostics;
  }

  compile(path: string, text: string, signal?: AbortSignal): Promise<CompileResult> {
    return this.json('POST', '/api/compile', { path, text }, signal);
  }

  model(): Promise<ModelTree | null> {
    // The model does not change while the server runs: ask once.
    this.modelTree ??= this.json<ModelTree>('GET', '/api/model').catch((err: unknown) => {
      this.modelTree = null;
      throw err;
    });
    return this.modelTree;
  }

  async runs(): Promise<Run[]> {
    return (await this.json<{ runs: Run[] }>('GET', '/api/runs')).runs;
  }

  async startRun(path: string, text?: string): Promise<Run> {
    return (await this.json<{ run: Run }>('POST', '/api/runs', text === undefined ? { path } : { path, text })).run;
  }

  async cancelRun(id: string): Promise<Run> {
    return (await this.json<{ run: Run }>('POST', `/api/runs/${encodeURIComponent(id)}/cancel`)).run;
  }

  results(id: string): Promise<ResultsDoc> {
    return this.json('GET', `/api/runs/${encodeURIComponent(id)}/results`);
  }

  circuit(id: string): Promise<CircuitDoc> {
    return this.json('GET', `/api/runs/${encodeURIComponent(id)}/circuit`);
  }

  async circuitDownloadUrl(id: string): Promise<string> {
    // With a token the link must carry it (an <a download> sends no Authorization header).
    const url = new URL(`/api/runs/${encodeURIComponent(id)}/circuit`, this.origin);
    if (this.token) url.searchParams.set('token', this.token);
    return url.toString();
  }

  async tensors(id: string): Promise<TensorInfo[]> {
    return (await this.json<{ tensors: TensorInfo[] }>('GET', `/api/runs/${encodeURIComponent(id)}/tensors`)).tensors;
  }

  tensor(id: string, name: string, rows?: [number, number]): Promise<Tensor> {
    const key = `${id}\n${name}\n${rows ? rows.join('..') : ''}`;
    return this.cache.get(key, async () => {
      let path = `/api/runs/${encodeURIComponent(id)}/tensors/${encodeURIComponent(name)}`;
      if (rows) path += `?rows=${rows[0]}..${rows[1]}`;
      const response = await this.request('GET', path);
      const shapeHeader = response.headers.get('X-Shape') ?? '';
      const shape = shapeHeader === '' ? [] : shapeHeader.split(',').map((d) => Number(d));
      if (shape.some((d) => !Number.isInteger(d) || d < 0))
        throw new SourceError(`${path}: bad X-Shape header '${shapeHeader}'`, response.status);
      const buffer = await response.arrayBuffer();
      if (buffer.byteLength !== elementCount(shape) * 4)
        throw new SourceError(`${path}: ${buffer.byteLength} bytes for shape [${shape.join(', ')}]`, response.status);
      return { name, shape, data: new Float32Array(buffer) };
    });
  }

  subscribe(listener: SourceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.events.close();
    this.listeners.clear();
  }
}
