// Live diagnostics for the editor: CodeMirror's linter asks the server to compile the text
// (POST /api/compile) about 50 ms after the last keystroke and underlines each diagnostic's
// span with the compiler's message, hint and notes.
import { type Diagnostic as CmDiagnostic, linter, lintGutter } from '@codemirror/lint';
import type { Text } from '@codemirror/state';
import type { EditorView } from '@codemirror/view';
import type { CompileResult, Diagnostic } from '../data/api_types';

export const LINT_DELAY_MS = 50;

// 1-based line and column to an offset, clamped into the document (a stale or odd position
// still lands somewhere visible).
function offset(doc: Text, line: number, col: number): number {
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  return Math.min(l.from + Math.max(col - 1, 0), l.to);
}

// The compiler's message with its hint and notes, one per line.
function messageOf(d: Diagnostic): string {
  const lines = [d.message];
  if (d.hint) lines.push(`hint: ${d.hint}`);
  for (const n of d.notes ?? []) lines.push(`note (${n.line}:${n.col}): ${n.message}`);
  return lines.join('\n');
}

// A diagnostic of the edited file underlines its span; one in another file (a file this one
// uses) is shown on the first character, naming where it is.
export function toCodeMirror(doc: Text, d: Diagnostic, inThisFile = true): CmDiagnostic {
  const from = inThisFile ? offset(doc, d.line, d.col) : 0;
  let to = inThisFile ? offset(doc, d.end_line ?? d.line, d.end_col ?? d.col + 1) : 1;
  if (to <= from) to = from + 1;
  to = Math.min(to, doc.length);
  return {
    from,
    to,
    severity: d.severity === 'warning' ? 'warning' : 'error',
    source: d.code || undefined,
    message: inThisFile ? messageOf(d) : `${d.file}:${d.line}:${d.col}: ${messageOf(d)}`,
  };
}

// Whether a diagnostic is about the file being edited (a diagnostic may point into a used file).
export function isAbout(d: Diagnostic, path: string): boolean {
  return !d.file || d.file === path || path.endsWith('/' + d.file) || d.file.endsWith('/' + path);
}

export interface LintHooks {
  path(): string | null;
  compile(path: string, text: string, signal: AbortSignal): Promise<CompileResult>;
  done(result: CompileResult, elapsedMs: number): void;
  failed(message: string): void;
}

export function liveDiagnostics(hooks: LintHooks) {
  let inFlight: AbortController | null = null;
  const source = async (view: EditorView): Promise<CmDiagnostic[]> => {
    const path = hooks.path();
    if (!path) return [];
    inFlight?.abort();  // an answer for older text is of no use
    const controller = new AbortController();
    inFlight = controller;
    const doc = view.state.doc;
    const started = performance.now();
    try {
      const result = await hooks.compile(path, doc.toString(), controller.signal);
      hooks.done(result, performance.now() - started);
      return result.diagnostics.map((d) => toCodeMirror(doc, d, isAbout(d, path)));
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return [];
      hooks.failed(err instanceof Error ? err.message : String(err));
      return [];
    } finally {
      if (inFlight === controller) inFlight = null;
    }
  };
  return [linter(source, { delay: LINT_DELAY_MS }), lintGutter()];
}
