// Syntax highlighting of the .circuit language for CodeMirror 6: a stream tokenizer whose
// keywords, component kinds and operators come from the grammar (virtual:circuit-grammar,
// read from grammar/*.g4 at build time), so the editor cannot drift from the compiler.
import { HighlightStyle, StreamLanguage, type StreamParser, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import grammar from 'virtual:circuit-grammar';

const keywords = new Set(grammar.keywords);
const componentKinds = new Set(grammar.componentKinds);
const atoms = new Set(grammar.atoms);
const operators = grammar.operators;  // longest first

interface State {
  inBlockComment: boolean;
}

const parser: StreamParser<State> = {
  name: 'circuit',
  startState: () => ({ inBlockComment: false }),
  token(stream, state) {
    if (state.inBlockComment) {
      if (stream.skipTo('*/')) {
        stream.pos += 2;
        state.inBlockComment = false;
      } else {
        stream.skipToEnd();
      }
      return 'comment';
    }
    if (stream.eatSpace()) return null;
    if (stream.match('///')) {
      stream.skipToEnd();
      return 'docComment';
    }
    if (stream.match('//')) {
      stream.skipToEnd();
      return 'lineComment';
    }
    if (stream.match('/*')) {
      state.inBlockComment = true;
      return 'blockComment';
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return 'string';
    if (stream.match(/^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/)) return 'number';
    const word = stream.match(/^[A-Za-z_][A-Za-z_0-9]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      if (componentKinds.has(w)) return 'typeName';
      if (atoms.has(w)) return 'bool';
      if (keywords.has(w)) return 'keyword';
      if (stream.match(/^\s*\(/, false)) return 'function';
      return 'variableName';
    }
    for (const op of operators) if (stream.match(op)) return /^[{}()[\],:]$/.test(op) ? 'punctuation' : 'operator';
    if (stream.match('*')) return 'operator';
    stream.next();
    return 'invalid';
  },
  languageData: {
    commentTokens: { line: '//', block: { open: '/*', close: '*/' } },
  },
  tokenTable: {
    docComment: tags.docComment,
    lineComment: tags.lineComment,
    blockComment: tags.blockComment,
    function: tags.function(tags.variableName),
  },
};

export const circuitLanguage = StreamLanguage.define(parser);

const circuitHighlight = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--syn-keyword)', fontWeight: '600' },
  { tag: tags.typeName, color: 'var(--syn-component)', fontWeight: '600' },
  { tag: tags.bool, color: 'var(--syn-atom)' },
  { tag: tags.number, color: 'var(--syn-number)' },
  { tag: tags.string, color: 'var(--syn-string)' },
  { tag: [tags.lineComment, tags.blockComment, tags.comment], color: 'var(--syn-comment)', fontStyle: 'italic' },
  { tag: tags.docComment, color: 'var(--syn-doc)', fontStyle: 'italic' },
  { tag: tags.function(tags.variableName), color: 'var(--syn-function)' },
  { tag: tags.operator, color: 'var(--syn-operator)' },
  { tag: tags.invalid, color: 'var(--bad)', textDecoration: 'underline wavy' },
]);

export function circuitSyntax() {
  return [circuitLanguage, syntaxHighlighting(circuitHighlight)];
}
