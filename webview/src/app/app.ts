// The app: lays out the file list, run list and model tree (left), the editor (middle), the
// results pane (right) and the status bar, and wires them to one DataSource: opening and saving
// files, live diagnostics, running (Ctrl-Enter), following runs, selecting heads.
import { CircuitEditor } from '../editor/editor';
import type { CompileResult, FileEntry, Run, Session } from '../data/api_types';
import type { DataSource, SourceEvent } from '../data/source';
import { ModelTreeView } from '../model/model_tree';
import { errorText, h } from './dom';
import { FileList } from './file_list';
import { ResultsPane } from './results_pane';
import { RunList } from './run_list';
import { StatusBar } from './status_bar';
import { readUrlState, writeUrlState } from './url_state';

const PREFERRED_FILE = /(^|\/)induction\.circuit$/;

export class App {
  private readonly status = new StatusBar();
  private readonly files: FileList;
  private readonly runList: RunList;
  private readonly modelTree: ModelTreeView;
  private readonly results: ResultsPane;
  private readonly editor: CircuitEditor;
  private readonly runButton: HTMLButtonElement;
  private readonly sidebarTabs: HTMLElement;
  private readonly workspacePanel: HTMLElement;
  private fileEntries: FileEntry[] = [];
  private followRun: string | null = null;  // the run started here, shown when it finishes
  private started = false;

  constructor(root: HTMLElement, private readonly source: DataSource) {
    const live = source.capabilities.live;
    this.files = new FileList((path) => void this.openFile(path));
    this.runList = new RunList({
      select: (run) => this.selectRun(run),
      cancel: (run) => void this.cancelRun(run),
    }, source.capabilities.run);
    this.modelTree = new ModelTreeView({ selectHead: (l, hd) => this.results.showHead(l, hd) });
    this.results = new ResultsPane(source, {
      selectNode: (node) => {
        if (node.kind === 'attention' && node.layer !== null && node.head !== null) {
          this.modelTree.selectHead(node.layer, node.head);
          this.results.showHead(node.layer, node.head);
        }
      },
      selectLocation: (loc) => void this.goTo(loc.file, loc.line, loc.col),
    });

    const editorHost = h('div', { class: 'editor-host' });
    this.editor = new CircuitEditor(editorHost, {
      compile: (p, t, s) => source.compile(p, t, s),
      compiled: (r, ms) => this.onCompiled(r, ms),
      compileFailed: (m) => this.status.say(`compile: ${m}`, 'error'),
      model: () => source.model(),
      run: () => void this.run(),
      save: () => void this.save(),
      changed: (path, dirty) => {
        this.files.setDirty(path, dirty);
        this.status.setFile(path, dirty);
      },
    }, live && source.capabilities.edit);

    this.runButton = h('button', {
      class: 'run-button', title: 'run the open file (Ctrl-Enter)', disabled: !source.capabilities.run,
    }, '▶ Run');
    this.runButton.addEventListener('click', () => void this.run());
    const saveButton = h('button', { class: 'save-button', title: 'save the open file (Ctrl-S)' }, 'Save');
    saveButton.addEventListener('click', () => void this.save());

    this.workspacePanel = h('div', { class: 'sidebar-panel', 'data-panel': 'workspace' }, this.files.element, this.runList.element);
    const modelPanel = h('div', { class: 'sidebar-panel', 'data-panel': 'model', hidden: true }, this.modelTree.element);
    this.sidebarTabs = h('div', { class: 'tab-bar sidebar-tabs', role: 'tablist' },
      h('button', { class: 'tab', 'data-panel': 'workspace', 'aria-selected': 'true' }, 'Workspace'),
      h('button', { class: 'tab', 'data-panel': 'model', 'aria-selected': 'false' }, 'Model'));
    this.sidebarTabs.addEventListener('click', (e) => {
      const tab = (e.target as Element).closest<HTMLElement>('[data-panel]');
      if (tab) this.showSidebar(tab.dataset.panel!);
    });

    root.replaceChildren(
      h('header', { class: 'top-bar' },
        h('span', { class: 'brand' }, 'Circuitry'),
        h('span', { class: 'top-model', id: 'top-model' }),
        h('span', { class: 'spacer' }),
        ...(source.kind === 'report' ? [h('span', { class: 'badge' }, 'report')] : [saveButton, this.runButton])),
      h('main', { class: source.kind === 'report' ? 'layout report' : 'layout' },
        h('aside', { class: 'sidebar' }, this.sidebarTabs, this.workspacePanel, modelPanel),
        h('section', { class: 'editor-pane' }, editorHost),
        this.results.element),
      this.status.element);

    // Ctrl/Cmd-Enter runs the open file from anywhere on the page (the editor handles it itself
    // when it has the focus).
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'Enter' && !e.defaultPrevented) {
        e.preventDefault();
        void this.run();
      }
    });
    source.subscribe((e) => this.onEvent(e));
    if (!live) this.status.setConnection('report');
  }

  async start(): Promise<void> {
    let session: Session;
    try {
      session = await this.source.session();
    } catch (err) {
      // The event stream keeps trying; its hello message starts the app when the server is back.
      this.status.say(errorText(err), 'error');
      this.results.showMessage(`Cannot reach the server: ${errorText(err)}`);
      return;
    }
    await this.begin(session);
  }

  // The first session seen: open the file and run the address names (?file=&run=), else the
  // preferred file and its latest results.
  private async begin(session: Session): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.applySession(session);
    void this.loadModel();
    const asked = readUrlState();
    const runs = this.runList.all();
    const askedRun = asked.run ? runs.find((r) => r.id === asked.run) : undefined;
    const first = this.fileEntries.find((f) => f.path === asked.file)
      ?? this.fileEntries.find((f) => f.path === askedRun?.path)
      ?? this.fileEntries.find((f) => PREFERRED_FILE.test(f.path)) ?? this.fileEntries[0];
    if (first) await this.openFile(first.path);
    if (asked.run && !askedRun) this.status.say(`run ${asked.run}: not in this workspace`, 'error');
    const forFile = askedRun ?? runs.find((r) => r.state === 'done' && r.path === first?.path) ?? runs.find((r) => r.state === 'done');
    if (forFile) this.selectRun(forFile);
    else this.results.showMessage('No results yet: Ctrl-Enter runs the open file.');
  }

  private showSidebar(panel: string): void {
    for (const b of this.sidebarTabs.querySelectorAll<HTMLElement>('[data-panel]')) b.setAttribute('aria-selected', String(b.dataset.panel === panel));
    for (const p of this.workspacePanel.parentElement!.querySelectorAll<HTMLElement>('.sidebar-panel')) p.hidden = p.dataset.panel !== panel;
  }

  private applySession(session: Session): void {
    this.fileEntries = session.files;
    this.files.setFiles(session.files);
    this.runList.setRuns(session.runs);
    const m = session.model;
    const text = m ? `${m.name} · ${m.family} · ${m.n_layers} layers × ${m.n_heads} heads` : 'no model';
    this.status.setModel(text);
    const top = document.getElementById('top-model');
    if (top) top.textContent = m ? m.name : '';
    if (this.results.runId) {
      const fresh = this.runList.get(this.results.runId);
      if (fresh) this.runList.setSelected(fresh.id);
    }
  }

  private async loadModel(): Promise<void> {
    this.modelTree.showMessage('loading the model…');
    try {
      const model = await this.source.model();
      if (model) this.modelTree.setModel(model);
      else this.modelTree.showMessage('This report does not describe the model.');
    } catch (err) {
      this.modelTree.showMessage(`model: ${errorText(err)}`);
    }
  }

  private async openFile(path: string): Promise<void> {
    try {
      const text = this.editor.isOpen(path) ? '' : await this.source.readFile(path);
      this.editor.open(path, text, !this.source.capabilities.edit);
      this.files.setCurrent(path);
      writeUrlState({ file: path });
      this.status.setFile(path, this.editor.isDirty(path));
    } catch (err) {
      this.status.say(`${path}: ${errorText(err)}`, 'error');
    }
  }

  private async goTo(file: string, line: number, col: number): Promise<void> {
    const entry = this.fileEntries.find((f) => f.path === file || f.path.endsWith('/' + file) || file.endsWith('/' + f.path));
    if (entry && entry.path !== this.editor.path) await this.openFile(entry.path);
    if (entry || this.editor.path === file) this.editor.goTo(line, col);
  }

  private onCompiled(result: CompileResult, ms: number): void {
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    this.status.setCompile(errors, result.diagnostics.length - errors, result.ms ?? ms);
  }

  private async save(): Promise<void> {
    const path = this.editor.path;
    if (!path || !this.source.capabilities.edit) return;
    try {
      const diagnostics = await this.source.saveFile(path, this.editor.text());
      this.editor.markSaved(path);
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      this.status.say(`saved ${path}${errors ? ` (${errors} error${errors === 1 ? '' : 's'})` : ''}`);
    } catch (err) {
      this.status.say(`save: ${errorText(err)}`, 'error');
    }
  }

  // Ctrl-Enter: runs the open file as it is in the editor (the server saves it first).
  private async run(): Promise<void> {
    const path = this.editor.path;
    if (!path || !this.source.capabilities.run) return;
    try {
      const dirty = this.editor.isDirty(path);
      const run = await this.source.startRun(path, dirty ? this.editor.text() : undefined);
      if (dirty) this.editor.markSaved(path);
      this.followRun = run.id;
      this.runList.update(run);
      this.status.say(`${run.id}: ${run.state} ${path}`);
    } catch (err) {
      this.status.say(`run: ${errorText(err)}`, 'error');
    }
  }

  private async cancelRun(run: Run): Promise<void> {
    try {
      this.runList.update(await this.source.cancelRun(run.id));
    } catch (err) {
      this.status.say(`cancel ${run.id}: ${errorText(err)}`, 'error');
    }
  }

  private selectRun(run: Run): void {
    this.runList.setSelected(run.id);
    writeUrlState({ run: run.id });
    if (run.state === 'done') void this.results.show(run);
    else if (run.state === 'failed') this.results.showMessage(`${run.id} failed: ${run.error ?? 'no reason given'}`);
    else this.results.showMessage(`${run.id} is ${run.state}; its results appear here when it finishes.`);
  }

  private onEvent(e: SourceEvent): void {
    switch (e.type) {
      case 'connection':
        this.status.setConnection(e.state);
        break;
      case 'session':
        if (this.started) this.applySession(e.session);
        else void this.begin(e.session);
        break;
      case 'run': {
        this.runList.update(e.run);
        const ended = e.run.state === 'done' || e.run.state === 'failed' || e.run.state === 'cancelled';
        if (e.run.id === this.followRun && ended) {
          this.followRun = null;
          this.status.say(`${e.run.id}: ${e.run.state}${e.run.seconds ? ` in ${e.run.seconds.toFixed(2)} s` : ''}${e.run.error ? `: ${e.run.error}` : ''}`,
            e.run.state === 'done' ? 'info' : 'error');
          this.selectRun(e.run);
        } else if (e.run.id === this.results.runId && e.run.state === 'done') {
          void this.results.show(e.run);
        }
        break;
      }
      case 'file':
        void this.onFileSaved(e.path);
        break;
    }
  }

  // Another client saved a file: take its text when we have no unsaved edits of our own.
  private async onFileSaved(path: string): Promise<void> {
    if (!this.fileEntries.some((f) => f.path === path)) {
      try {
        this.fileEntries = await this.source.listFiles();
        this.files.setFiles(this.fileEntries);
      } catch (err) {
        this.status.say(errorText(err), 'error');
      }
    }
    if (!this.editor.isOpen(path) || this.editor.isDirty(path)) return;
    try {
      this.editor.markSaved(path, await this.source.readFile(path));
    } catch (err) {
      this.status.say(`${path}: ${errorText(err)}`, 'error');
    }
  }
}
