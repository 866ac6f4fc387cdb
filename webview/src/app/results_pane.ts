// The results pane: one run's views as tabs (graph, attention, patching, logit lens, DLA,
// detectors, claims, provenance: W2's views in src/views/, wired by view_wiring.ts). A tab's
// view is built when first shown and its tensors are fetched then, never before.
import { clear, errorText, h } from './dom';
import type { CircuitDoc, ResultsDoc, Run, TensorInfo } from '../data/api_types';
import type { DataSource } from '../data/source';
import { type MountedView, type ViewContext, type ViewTab, viewTabs } from './view_wiring';

export interface RunDocuments {
  run: Run;
  results: ResultsDoc;
  tensors: TensorInfo[];
  // The interchange document, fetched when a view first needs it (provenance, the graph of the
  // circuits written in the file): it can be megabytes, and the first view never needs it.
  circuit(): Promise<CircuitDoc | null>;
  // Its name when results.json does not say (results from before `document`): the file's stem.
  documentName: string;
}

export class ResultsPane {
  readonly element: HTMLElement;
  private readonly title = h('div', { class: 'results-title' });
  private readonly tabBar = h('div', { class: 'tab-bar', role: 'tablist' });
  private readonly body = h('div', { class: 'results-body' });
  private tabs: ViewTab[] = [];
  private mounted = new Map<string, { element: HTMLElement; view: MountedView | null }>();
  private active: string | null = null;
  private docs: RunDocuments | null = null;
  private loadToken = 0;

  private wantedHead: { layer: number; head: number } | null = null;

  constructor(private readonly source: DataSource, private readonly context: Omit<ViewContext, 'source' | 'runId' | 'wantedHead'>) {
    this.element = h('section', { class: 'results-pane' }, h('div', { class: 'results-head' }, this.title, this.tabBar), this.body);
    this.tabBar.addEventListener('click', (e) => {
      const tab = (e.target as Element).closest<HTMLElement>('[data-tab]');
      if (tab) this.activate(tab.dataset.tab!);
    });
    this.showMessage('No run selected. Ctrl-Enter runs the open file; the runs list shows earlier results.');
  }

  get runId(): string | null {
    return this.docs?.run.id ?? null;
  }

  showMessage(text: string): void {
    this.dispose();
    this.docs = null;
    this.title.textContent = '';
    clear(this.tabBar);
    clear(this.body);
    this.body.append(h('div', { class: 'muted pad' }, text));
  }

  // Loads and shows a finished run; keeps the tab the user was on when the new run has it.
  async show(run: Run): Promise<void> {
    const token = ++this.loadToken;
    this.title.textContent = `${run.path} · ${run.id}`;
    clear(this.body);
    this.body.append(h('div', { class: 'muted pad' }, 'loading results…'));
    try {
      const [results, tensors] = await Promise.all([
        this.source.results(run.id),
        this.source.tensors(run.id).catch(() => [] as TensorInfo[]),
      ]);
      if (token !== this.loadToken) return;
      let circuit: Promise<CircuitDoc | null> | null = null;
      const documentName = run.path.replace(/^.*\//, '').replace(/\.circuit$/, '');
      this.present({ run, results, tensors, documentName, circuit: () => (circuit ??= this.source.circuit(run.id).catch(() => null)) });
    } catch (err) {
      if (token !== this.loadToken) return;
      this.showMessage(`${run.id}: ${errorText(err)}`);
      this.title.textContent = `${run.path} · ${run.id}`;
    }
  }

  // Shows a head in the attention view (from the model tree or a graph node).
  showHead(layer: number, head: number): void {
    this.wantedHead = { layer, head };
    const tab = this.tabs.find((t) => t.kind === 'attention');
    if (!tab) return;
    const mounted = this.mounted.get(tab.key);
    this.activate(tab.key);
    // A view still loading starts on the wanted head itself (context.wantedHead).
    if (mounted) mounted.view?.selectHead?.(layer, head);
  }

  private present(docs: RunDocuments): void {
    const previous = this.active ? this.tabs.find((t) => t.key === this.active) : undefined;
    this.dispose();
    this.docs = docs;
    this.tabs = viewTabs(docs);
    clear(this.tabBar);
    clear(this.body);
    for (const t of this.tabs)
      this.tabBar.append(h('button', { class: 'tab', role: 'tab', 'data-tab': t.key, 'aria-selected': 'false', title: t.title }, t.label));
    if (this.tabs.length === 0) {
      this.body.append(h('div', { class: 'muted pad' }, 'This run has nothing to show.'));
      return;
    }
    const again = previous && this.tabs.find((t) => t.key === previous.key || t.kind === previous.kind);
    this.activate((again ?? this.tabs[0]).key);
  }

  private activate(key: string): void {
    const tab = this.tabs.find((t) => t.key === key);
    if (!tab || !this.docs) return;
    this.active = key;
    for (const b of this.tabBar.querySelectorAll<HTMLElement>('[data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === key));
    for (const [k, m] of this.mounted) m.element.hidden = k !== key;
    if (this.mounted.has(key)) return;
    const element = h('div', { class: 'view-host', 'data-view': tab.kind });
    this.body.append(element);
    const slot: { element: HTMLElement; view: MountedView | null } = { element, view: null };
    this.mounted.set(key, slot);
    const docs = this.docs;
    const context: ViewContext = { ...this.context, source: this.source, runId: docs.run.id, wantedHead: () => this.wantedHead };
    element.append(h('div', { class: 'muted pad' }, 'loading…'));
    tab.mount(element, docs, context).then(
      (view) => {
        if (this.docs !== docs) { view.dispose(); return; }
        slot.view = view;
        // A head chosen while the view was loading.
        if (this.wantedHead) view.selectHead?.(this.wantedHead.layer, this.wantedHead.head);
      },
      (err: unknown) => {
        if (this.docs !== docs) return;
        clear(element);
        element.append(h('div', { class: 'error pad' }, `${tab.label}: ${errorText(err)}`));
      });
  }

  private dispose(): void {
    for (const m of this.mounted.values()) {
      m.view?.dispose();
      m.element.remove();
    }
    this.mounted.clear();
    this.tabs = [];
  }
}
