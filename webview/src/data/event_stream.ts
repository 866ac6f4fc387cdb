// The /api/events WebSocket of a live server: connects, keeps the connection alive with pings,
// and reconnects with a growing delay (0.5 s up to 8 s) whenever it drops.
import type { Diagnostic, Run, Session } from './api_types';
import type { ConnectionState } from './source';

export type ServerMessage =
  | { type: 'hello'; session: Session }
  | { type: 'run'; run: Run }
  | { type: 'file'; path: string; diagnostics: Diagnostic[] }
  | { type: 'pong' };

const PING_MS = 20_000;
const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 8_000;

export class EventStream {
  private socket: WebSocket | null = null;
  private retryMs = MIN_RETRY_MS;
  private retryTimer: number | undefined;
  private pingTimer: number | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly onMessage: (message: ServerMessage) => void,
    private readonly onState: (state: ConnectionState) => void,
  ) {
    this.connect();
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    this.socket?.close();
    this.socket = null;
  }

  private connect(): void {
    if (this.closed) return;
    this.onState('connecting');
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = MIN_RETRY_MS;
      this.onState('open');
      this.pingTimer = window.setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'ping' }));
      }, PING_MS);
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;  // not ours to fail on: the server's messages are JSON; skip a bad one
      }
      if (message && typeof message === 'object' && 'type' in message) this.onMessage(message as ServerMessage);
    };
    socket.onclose = () => {
      window.clearInterval(this.pingTimer);
      if (this.socket === socket) this.socket = null;
      if (!this.closed) {
        this.onState('closed');
        this.scheduleRetry();
      }
    };
    // onerror is always followed by onclose, which retries.
    socket.onerror = () => {};
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }
}
