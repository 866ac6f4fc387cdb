// Build-time reader of the ANTLR grammar (grammar/*.g4): collects the literal words and
// operators of the parser rules and serves them to the editor as the virtual module
// `virtual:circuit-grammar`, so the editor's highlighting follows the grammar with no copy.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

export interface GrammarWords {
  keywords: string[];        // declaration and operator words: model, let, where, on, ...
  componentKinds: string[];  // the words that start a component: head, heads, mlp, ...
  atoms: string[];           // literal constants: true, false
  operators: string[];       // punctuation literals, longest first: ->, >=, ..
}

// Rules as name -> body, with comments removed; quoted literals may hold ';' or '//'.
function parserRules(text: string): Map<string, string> {
  const rules = new Map<string, string>();
  let i = 0;
  let body = '';
  let name: string | null = null;
  const flush = () => {
    const m = /^\s*(?:fragment\s+)?([A-Za-z_][A-Za-z_0-9]*)\s*:([\s\S]*)$/.exec(body);
    if (m && name === null) rules.set(m[1], m[2]);
    body = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {  // a literal: copy through its closing quote
      let j = i + 1;
      while (j < text.length && text[j] !== "'") j += text[j] === '\\' ? 2 : 1;
      body += text.slice(i, j + 1);
      i = j + 1;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') ++i;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === ';') {
      flush();
      ++i;
    } else {
      body += c;
      ++i;
    }
  }
  return rules;
}

function literals(body: string): string[] {
  const out: string[] = [];
  for (const m of body.matchAll(/'((?:[^'\\]|\\.)*)'/g)) out.push(m[1].replace(/\\(.)/g, '$1'));
  return out;
}

export function readGrammarWords(grammarDir: string): GrammarWords {
  const files = readdirSync(grammarDir).filter((f) => f.endsWith('.g4')).sort();
  if (files.length === 0) throw new Error(`${grammarDir}: no .g4 grammar found`);
  const keywords = new Set<string>();
  const componentKinds = new Set<string>();
  const operators = new Set<string>();
  for (const file of files) {
    const rules = parserRules(readFileSync(join(grammarDir, file), 'utf8'));
    for (const [rule, body] of rules) {
      if (!/^[a-z]/.test(rule)) continue;  // lexer rules (upper case) hold no keywords
      for (const lit of literals(body)) {
        if (/^[A-Za-z_]+$/.test(lit)) (rule === 'component' ? componentKinds : keywords).add(lit);
        else if (lit.length > 0) operators.add(lit);
      }
    }
  }
  const atoms = ['true', 'false'].filter((w) => keywords.delete(w));
  for (const k of componentKinds) keywords.delete(k);
  if (componentKinds.size === 0) throw new Error(`${grammarDir}: the grammar has no 'component' rule`);
  return {
    keywords: [...keywords].sort(),
    componentKinds: [...componentKinds].sort(),
    atoms,
    operators: [...operators].sort((a, b) => b.length - a.length || a.localeCompare(b)),
  };
}

const virtualId = 'virtual:circuit-grammar';
const resolvedId = '\0' + virtualId;

export function grammarKeywords(grammarDir: string): Plugin {
  return {
    name: 'circuit-grammar-keywords',
    resolveId(id) {
      return id === virtualId ? resolvedId : null;
    },
    load(id) {
      if (id !== resolvedId) return null;
      for (const f of readdirSync(grammarDir)) if (f.endsWith('.g4')) this.addWatchFile(join(grammarDir, f));
      const words = readGrammarWords(grammarDir);
      return `export default ${JSON.stringify(words)};`;
    },
  };
}
