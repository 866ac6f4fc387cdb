// The status bar: connection state, the open file and its state, the last compile's time and
// counts, and one message line (errors from the data layer land here, never in the console).
import { h } from './dom';
import type { ConnectionState } from '../data/source';

export class StatusBar {
  readonly element: HTMLElement;
  private readonly connection = h('span', { class: 'status-item status-connection' });
  private readonly file = h('span', { class: 'status-item status-file' });
  private readonly compile = h('span', { class: 'status-item status-compile' });
  private readonly message = h('span', { class: 'status-item status-message' });
  private readonly model = h('span', { class: 'status-item status-model' });

  constructor() {
    this.element = h('footer', { class: 'status-bar', role: 'status' },
      this.connection, this.file, this.compile, this.message, h('span', { class: 'spacer' }), this.model);
  }

  setConnection(state: ConnectionState | 'report'): void {
    const text: Record<string, string> = {
      connecting: 'connecting…', open: 'live', closed: 'disconnected: retrying', offline: 'offline', report: 'report (read-only)',
    };
    this.connection.textContent = text[state] ?? state;
    this.connection.dataset.state = state;
  }

  setFile(path: string | null, dirty: boolean): void {
    this.file.textContent = path ? `${path}${dirty ? ' ●' : ''}` : '';
    this.file.title = dirty ? 'unsaved changes (Ctrl-S saves, Ctrl-Enter saves and runs)' : '';
  }

  setCompile(errors: number, warnings: number, ms: number | null): void {
    const parts = [errors === 0 && warnings === 0 ? 'no problems' : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`];
    if (ms !== null) parts.push(`${Math.round(ms)} ms`);
    this.compile.textContent = parts.join(' · ');
    this.compile.dataset.state = errors ? 'error' : warnings ? 'warning' : 'ok';
  }

  setModel(text: string): void {
    this.model.textContent = text;
  }

  say(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
    this.message.title = text;
  }
}
