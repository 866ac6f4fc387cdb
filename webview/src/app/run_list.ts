// The session's runs (newest first) and the results already on disk: state, progress, verdict;
// clicking one shows its results; a running one can be cancelled.
import { clear, h } from './dom';
import type { Run } from '../data/api_types';

export interface RunListEvents {
  select(run: Run): void;
  cancel(run: Run): void;
}

function verdict(run: Run): string {
  if (run.state === 'running') {
    const p = run.progress;
    return p && p.total ? `${p.label ?? 'running'} ${p.done}/${p.total}` : 'running';
  }
  if (run.state === 'done') return run.passed === true ? 'passed' : run.passed === false ? 'failed claims' : 'done';
  return run.state;
}

export class RunList {
  readonly element: HTMLElement;
  private readonly list = h('ul', { class: 'run-list', 'aria-label': 'runs' });
  private readonly runs = new Map<string, Run>();
  private order: string[] = [];
  private selected: string | null = null;

  constructor(private readonly events: RunListEvents, private readonly canCancel: boolean) {
    this.element = h('section', { class: 'panel runs-panel' }, h('h2', {}, 'Runs'), this.list);
    this.list.addEventListener('click', (e) => {
      const target = e.target as Element;
      const item = target.closest<HTMLElement>('[data-run]');
      const run = item ? this.runs.get(item.dataset.run!) : undefined;
      if (!run) return;
      if (target.closest('.cancel')) this.events.cancel(run);
      else this.events.select(run);
    });
  }

  setRuns(runs: Run[]): void {
    this.runs.clear();
    this.order = [];
    for (const r of runs) this.put(r);
    this.render();
  }

  update(run: Run): void {
    this.put(run);
    this.render();
  }

  get(id: string): Run | undefined {
    return this.runs.get(id);
  }

  all(): Run[] {
    return this.order.map((id) => this.runs.get(id)!);
  }

  setSelected(id: string | null): void {
    this.selected = id;
    this.render();
  }

  private put(run: Run): void {
    if (!this.runs.has(run.id)) {
      // Session runs (r1, r2, ...) newest first, above the saved results.
      if (run.id.startsWith('saved:')) this.order.push(run.id);
      else this.order.unshift(run.id);
    }
    this.runs.set(run.id, run);
  }

  private render(): void {
    clear(this.list);
    if (this.order.length === 0) this.list.append(h('li', { class: 'muted' }, 'no runs yet: Ctrl-Enter runs the open file'));
    for (const id of this.order) {
      const run = this.runs.get(id)!;
      const active = run.state === 'queued' || run.state === 'running';
      const progress = run.state === 'running' && run.progress && run.progress.total
        ? h('progress', { max: run.progress.total, value: run.progress.done }) : null;
      this.list.append(h('li', {
        class: `run ${id === this.selected ? 'selected' : ''}`, 'data-run': id, 'data-state': run.state,
        title: run.error ?? (run.seconds ? `${run.seconds.toFixed(2)} s` : ''),
      },
      h('span', { class: 'run-id mono' }, id.startsWith('saved:') ? 'saved' : id),
      h('span', { class: 'run-path' }, run.path),
      h('span', { class: `run-state state-${run.state} ${run.passed === false ? 'failed-claims' : ''}` }, verdict(run)),
      progress,
      active && this.canCancel ? h('button', { class: 'cancel', title: 'cancel this run' }, '✕') : null,
      run.state === 'failed' && run.error ? h('div', { class: 'run-error' }, run.error) : null));
    }
  }
}
