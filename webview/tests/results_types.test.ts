// results.json has one TypeScript definition (src/data/results_types.ts) and one schema
// (schema/results.schema.json, which the C++ output is validated against in
// tests/python/test_results_schema.py). These tests fail when the two disagree: the committed
// file must be what scripts/results_types.mjs makes of the schema, and, read back with the
// TypeScript compiler's parser, its property names, optionality and types must be the schema's,
// recursively (so a generator bug cannot hide a difference either).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

import type * as TS from 'typescript';

import { resultsTypes } from '../scripts/results_types_gen.mjs';

// Run from webview/ (npm test). The compiler is loaded at run time, not bundled.
const ts: typeof TS = createRequire(resolve('package.json'))('typescript');
const SCHEMA_PATH = resolve('../schema/results.schema.json');
const TYPES_PATH = resolve('src/data/results_types.ts');

type Schema = { [key: string]: any };
// A type reduced to what both sides can say: the shape the comparison walks.
type Shape =
  | { kind: 'prim'; name: 'string' | 'number' | 'boolean' | 'null' }
  | { kind: 'literal'; value: string | number | boolean }
  | { kind: 'array'; item: Shape }
  | { kind: 'tuple'; items: Shape[] }
  | { kind: 'record'; value: Shape }
  | { kind: 'object'; props: Record<string, { optional: boolean; type: Shape }> }
  | { kind: 'union'; members: Shape[] };

function union(members: Shape[]): Shape {
  const flat = members.flatMap((m) => (m.kind === 'union' ? m.members : [m]));
  const unique = [...new Map(flat.map((m) => [JSON.stringify(m), m])).values()];
  unique.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return unique.length === 1 ? unique[0] : { kind: 'union', members: unique };
}

function fromSchema(root: Schema, s: Schema): Shape {
  if (s.$ref) return fromSchema(root, root.$defs[String(s.$ref).replace('#/$defs/', '')]);
  if ('const' in s) return { kind: 'literal', value: s.const };
  if (s.enum) return union(s.enum.map((value: string) => ({ kind: 'literal', value })));
  if (s.oneOf) return union(s.oneOf.map((v: Schema) => fromSchema(root, v)));
  const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
  return union(types.map((t): Shape => {
    switch (t) {
      case 'string': case 'boolean': case 'null': return { kind: 'prim', name: t };
      case 'integer': case 'number': return { kind: 'prim', name: 'number' };
      case 'array':
        if (s.minItems !== undefined && s.minItems === s.maxItems)
          return { kind: 'tuple', items: Array(s.minItems).fill(fromSchema(root, s.items)) };
        return { kind: 'array', item: fromSchema(root, s.items) };
      case 'object': {
        if (!s.properties) return { kind: 'record', value: fromSchema(root, s.additionalProperties) };
        const required = new Set<string>(s.required ?? []);
        const props: Record<string, { optional: boolean; type: Shape }> = {};
        for (const [k, v] of Object.entries(s.properties))
          props[k] = { optional: !required.has(k), type: fromSchema(root, v as Schema) };
        return { kind: 'object', props };
      }
      default: throw new Error(`schema type ${t}`);
    }
  }));
}

// The declarations of a TypeScript file, and a type node's shape (names resolved through them).
function fromTypeScript(text: string, rootName: string): Shape {
  const file = ts.createSourceFile('results_types.ts', text, ts.ScriptTarget.Latest, true);
  const declared = new Map<string, TS.InterfaceDeclaration | TS.TypeAliasDeclaration>();
  for (const st of file.statements)
    if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) declared.set(st.name.text, st);

  const members = (list: TS.NodeArray<TS.TypeElement>): Shape => {
    const props: Record<string, { optional: boolean; type: Shape }> = {};
    for (const m of list) {
      if (!ts.isPropertySignature(m) || !m.type) throw new Error(`not a property: ${m.getText(file)}`);
      props[m.name.getText(file)] = { optional: !!m.questionToken, type: shape(m.type) };
    }
    return { kind: 'object', props };
  };
  const named = (name: string): Shape => {
    const d = declared.get(name);
    if (!d) throw new Error(`results_types.ts: no declaration of ${name}`);
    return ts.isInterfaceDeclaration(d) ? members(d.members) : shape(d.type);
  };
  function shape(node: TS.TypeNode): Shape {
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword: return { kind: 'prim', name: 'string' };
      case ts.SyntaxKind.NumberKeyword: return { kind: 'prim', name: 'number' };
      case ts.SyntaxKind.BooleanKeyword: return { kind: 'prim', name: 'boolean' };
    }
    if (ts.isParenthesizedTypeNode(node)) return shape(node.type);
    if (ts.isUnionTypeNode(node)) return union(node.types.map(shape));
    if (ts.isArrayTypeNode(node)) return { kind: 'array', item: shape(node.elementType) };
    if (ts.isTupleTypeNode(node)) return { kind: 'tuple', items: node.elements.map(shape) };
    if (ts.isTypeLiteralNode(node)) return members(node.members);
    if (ts.isLiteralTypeNode(node)) {
      const l = node.literal;
      if (l.kind === ts.SyntaxKind.NullKeyword) return { kind: 'prim', name: 'null' };
      if (l.kind === ts.SyntaxKind.TrueKeyword || l.kind === ts.SyntaxKind.FalseKeyword)
        return { kind: 'literal', value: l.kind === ts.SyntaxKind.TrueKeyword };
      if (ts.isStringLiteral(l)) return { kind: 'literal', value: l.text };
      if (ts.isNumericLiteral(l)) return { kind: 'literal', value: Number(l.text) };
    }
    if (ts.isTypeReferenceNode(node)) {
      const name = node.typeName.getText(file);
      if (name === 'Record' && node.typeArguments?.length === 2) return { kind: 'record', value: shape(node.typeArguments[1]) };
      return named(name);
    }
    throw new Error(`results_types.ts: a type the test does not read: ${node.getText(file)}`);
  }
  return named(rootName);
}

// Every difference between two shapes, each naming where it is ("experiments[].passes[].name").
function differences(a: Shape, b: Shape, at = 'results'): string[] {
  if (a.kind !== b.kind) return [`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
  switch (a.kind) {
    case 'array': return differences(a.item, (b as typeof a).item, `${at}[]`);
    case 'record': return differences(a.value, (b as typeof a).value, `${at}{}`);
    case 'object': {
      const bp = (b as typeof a).props;
      const out: string[] = [];
      for (const k of new Set([...Object.keys(a.props), ...Object.keys(bp)])) {
        if (!(k in a.props) || !(k in bp)) { out.push(`${at}.${k}: only on one side`); continue; }
        if (a.props[k].optional !== bp[k].optional) out.push(`${at}.${k}: optional on one side only`);
        out.push(...differences(a.props[k].type, bp[k].type, `${at}.${k}`));
      }
      return out;
    }
    case 'union': case 'tuple': {
      const am = a.kind === 'union' ? a.members : a.items;
      const bm = a.kind === 'union' ? (b as typeof a).members : (b as { items: Shape[] }).items;
      if (am.length !== bm.length) return [`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
      return am.flatMap((m, i) => differences(m, bm[i], `${at}|${i}`));
    }
    default: return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
  }
}

const schema: Schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
const committed = readFileSync(TYPES_PATH, 'utf8');

test('src/data/results_types.ts is what the schema makes (run node scripts/results_types.mjs)', () => {
  assert.equal(committed, resultsTypes(schema));
});

test('the TypeScript definition and the schema name the same fields, optionality and types', () => {
  const diff = differences(fromSchema(schema, schema), fromTypeScript(committed, 'ResultsDocument'));
  assert.deepEqual(diff, []);
});

test('a field added to the schema alone is found', () => {
  const changed = structuredClone(schema);
  changed.$defs.save.properties.dtype = { type: 'string' };
  const diff = differences(fromSchema(changed, changed), fromTypeScript(committed, 'ResultsDocument'));
  assert.deepEqual(diff, ['results.experiments[].passes[].saves[].dtype: only on one side']);
  assert.notEqual(resultsTypes(changed), committed);
});

test('a field made optional, or retyped, in the TypeScript alone is found', () => {
  const optional = committed.replace('  stage: number;', '  stage?: number;');
  const retyped = committed.replace('  mean: number | null;', '  mean: number;');
  assert.notEqual(optional, committed);
  assert.notEqual(retyped, committed);
  assert.deepEqual(differences(fromSchema(schema, schema), fromTypeScript(optional, 'ResultsDocument')),
                   ['results.experiments[].stage: optional on one side only']);
  assert.equal(differences(fromSchema(schema, schema), fromTypeScript(retyped, 'ResultsDocument')).length, 1);
});

test('the generator refuses a keyword it cannot express', () => {
  const changed = structuredClone(schema);
  changed.$defs.save.properties.hook.pattern = '^blocks';
  assert.throws(() => resultsTypes(changed), /keyword 'pattern'/);
});
