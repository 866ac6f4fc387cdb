// The .circuit editor: CodeMirror 6 with the grammar's highlighting, live diagnostics from the
// server, component hover, and keys to run (Ctrl/Cmd-Enter) and save (Ctrl/Cmd-S). One editor
// state per open file, so switching files keeps each one's undo history and cursor.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput } from '@codemirror/language';
import { forceLinting, lintKeymap } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { EditorSelection, EditorState, type Extension, Prec } from '@codemirror/state';
import {
  EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers, placeholder,
} from '@codemirror/view';
import type { CompileResult, ModelTree } from '../data/api_types';
import { circuitSyntax } from './circuit_language';
import { liveDiagnostics } from './diagnostics';
import { componentHover } from './hover';

export interface EditorHooks {
  compile(path: string, text: string, signal: AbortSignal): Promise<CompileResult>;
  compiled(result: CompileResult, elapsedMs: number): void;
  compileFailed(message: string): void;
  model(): Promise<ModelTree | null>;
  run(): void;
  save(): void;
  changed(path: string, dirty: boolean): void;
}

interface OpenFile {
  state: EditorState;
  saved: string;  // the text as last read or saved
  readOnly: boolean;
}

export class CircuitEditor {
  readonly view: EditorView;
  private readonly files = new Map<string, OpenFile>();
  private current: string | null = null;

  constructor(parent: HTMLElement, private readonly hooks: EditorHooks, private readonly live: boolean) {
    this.view = new EditorView({ parent, state: this.makeState('', true, 'No .circuit file is open.') });
  }

  get path(): string | null {
    return this.current;
  }

  text(): string {
    return this.view.state.doc.toString();
  }

  isDirty(path = this.current): boolean {
    if (!path) return false;
    const f = this.files.get(path);
    if (!f) return false;
    const state = path === this.current ? this.view.state : f.state;
    return state.doc.toString() !== f.saved;
  }

  // Shows a file; `text` is used when the file is not open yet.
  open(path: string, text: string, readOnly: boolean): void {
    this.stash();
    let f = this.files.get(path);
    if (!f) {
      f = { state: this.makeState(text, readOnly), saved: text, readOnly };
      this.files.set(path, f);
    }
    this.current = path;
    this.view.setState(f.state);
    if (this.live && !readOnly) forceLinting(this.view);
  }

  isOpen(path: string): boolean {
    return this.files.has(path);
  }

  // The file was saved (by us or, when it is not dirty here, by another client with `text`).
  markSaved(path: string, text?: string): void {
    const f = this.files.get(path);
    if (!f) return;
    if (text !== undefined && !this.isDirty(path)) {
      if (text === f.saved) return;
      if (path === this.current) {
        this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text } });
      } else {
        f.state = f.state.update({ changes: { from: 0, to: f.state.doc.length, insert: text } }).state;
      }
      f.saved = text;
    } else {
      f.saved = path === this.current ? this.text() : f.state.doc.toString();
    }
    this.hooks.changed(path, this.isDirty(path));
  }

  // Moves the cursor to a 1-based line and column and shows it.
  goTo(line: number, col: number): void {
    const doc = this.view.state.doc;
    const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
    const pos = Math.min(l.from + Math.max(col - 1, 0), l.to);
    this.view.dispatch({ selection: EditorSelection.cursor(pos), scrollIntoView: true });
    this.view.focus();
  }

  private stash(): void {
    if (this.current) {
      const f = this.files.get(this.current);
      if (f) f.state = this.view.state;
    }
  }

  private makeState(text: string, readOnly: boolean, emptyText = ''): EditorState {
    const extensions: Extension[] = [
      lineNumbers(),
      highlightActiveLineGutter(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      autocompletion({ activateOnTyping: false }),
      highlightActiveLine(),
      highlightSelectionMatches(),
      circuitSyntax(),
      EditorState.tabSize.of(2),
      Prec.highest(keymap.of([
        { key: 'Mod-Enter', run: () => { this.hooks.run(); return true; } },
        { key: 'Mod-s', run: () => { this.hooks.save(); return true; }, preventDefault: true },
      ])),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap,
        ...completionKeymap, ...lintKeymap, indentWithTab]),
      componentHover(() => this.hooks.model()),
      EditorView.updateListener.of((u) => {
        if (u.docChanged && this.current) this.hooks.changed(this.current, this.isDirty());
      }),
    ];
    if (readOnly) extensions.push(EditorState.readOnly.of(true));
    if (emptyText) extensions.push(placeholder(emptyText));
    else if (this.live) {
      extensions.push(liveDiagnostics({
        path: () => this.current,
        compile: (p, t, s) => this.hooks.compile(p, t, s),
        done: (r, ms) => this.hooks.compiled(r, ms),
        failed: (m) => this.hooks.compileFailed(m),
      }));
    }
    return EditorState.create({ doc: text, extensions });
  }
}
