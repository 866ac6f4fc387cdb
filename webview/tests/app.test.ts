// Unit tests of the app's pure parts: the grammar's words, component parsing and descriptions,
// diagnostics to editor ranges, the report's tensors and the tensor cache.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Text } from '@codemirror/state';
import grammar from 'virtual:circuit-grammar';
import type { ModelTree, Tensor } from '../src/data/api_types';
import { ReportSource, type ReportData } from '../src/data/report_source';
import { TensorCache } from '../src/data/tensor_cache';
import { toCodeMirror } from '../src/editor/diagnostics';
import { COMPONENT_PATTERN, describeComponent, parseComponent } from '../src/model/component';

test('the grammar gives the keywords, component kinds and operators', () => {
  for (const k of ['model', 'use', 'let', 'circuit', 'task', 'expect', 'where', 'on']) assert.ok(grammar.keywords.includes(k), k);
  assert.deepEqual([...grammar.componentKinds].sort(), ['attn', 'embed', 'head', 'heads', 'kv_head', 'logits', 'mlp', 'neuron', 'resid']);
  assert.deepEqual(grammar.atoms, ['true', 'false']);
  assert.ok(grammar.operators.indexOf('->') < grammar.operators.indexOf('-'), 'longest operators first');
  assert.ok(!grammar.keywords.includes('head'), 'component kinds are not plain keywords');
});

test('components parse as the language spells them', () => {
  assert.deepEqual(parseComponent('head 9.6'), { kind: 'head', layer: 9, head: 6 });
  assert.deepEqual(parseComponent('heads 9.*'), { kind: 'heads', layer: 9, head: '*' });
  assert.deepEqual(parseComponent('head 9.*'), { kind: 'heads', layer: 9, head: '*' });
  assert.deepEqual(parseComponent('mlp 3'), { kind: 'mlp', layer: 3 });
  assert.deepEqual(parseComponent('neuron 3.1021'), { kind: 'neuron', layer: 3, neuron: 1021 });
  assert.deepEqual(parseComponent('resid 5 pre'), { kind: 'resid', layer: 5, point: 'pre' });
  assert.deepEqual(parseComponent('logits'), { kind: 'logits' });
  assert.equal(parseComponent('mlp 3.1'), null);
  assert.equal(parseComponent('head x'), null);
  const line = 'let s = heads 1.* | head 0.0 -> resid 1 post';
  assert.deepEqual([...line.matchAll(COMPONENT_PATTERN)].map((m) => m[0]), ['heads 1.*', 'head 0.0', 'resid 1 post']);
});

const model: ModelTree = {
  name: 'toy', family: 'llama', n_layers: 2, n_heads: 4, n_kv_heads: 2, d_model: 8, d_head: 2, d_mlp: 16,
  hook_points: [
    { name: 'hook_embed', layer: null, shape: ['batch', 'pos', 8] },
    { name: 'blocks.1.attn.hook_z', layer: 1, shape: ['batch', 'pos', 4, 2] },
    { name: 'blocks.1.attn.hook_pattern', layer: 1, shape: ['batch', 4, 'q_pos', 'k_pos'] },
    { name: 'blocks.1.mlp.hook_post', layer: 1, shape: ['batch', 'pos', 16] },
    { name: 'blocks.1.hook_resid_pre', layer: 1, shape: ['batch', 'pos', 8] },
  ],
};

test('a head is described with its layer, k/v group and hook points', () => {
  const d = describeComponent(model, { kind: 'head', layer: 1, head: 3 });
  assert.equal(d.error, null);
  assert.deepEqual(d.hookPoints.map((p) => p.name), ['blocks.1.attn.hook_z', 'blocks.1.attn.hook_pattern']);
  assert.deepEqual(d.facts.find(([k]) => k === 'shares k/v with'), ['shares k/v with', 'kv_head 1.1']);
});

test('a hook point is described with its shape, the axes a run sets and whether it is opt-in', () => {
  const tree: ModelTree = { ...model, hook_points: model.hook_points.map((p) => p.name === 'blocks.1.attn.hook_pattern'
    ? { ...p, doc: 'attention pattern (softmax of the scores)', opt_in: false } : p.name === 'blocks.1.attn.hook_z' ? { ...p, opt_in: true } : p) };
  const d = describeComponent(tree, { kind: 'hook', name: 'blocks.1.attn.hook_pattern' });
  assert.equal(d.error, null);
  assert.equal(d.summary, 'attention pattern (softmax of the scores)');
  assert.deepEqual(Object.fromEntries(d.facts), {
    layer: '1', shape: '[batch, 4, q_pos, k_pos]', 'set by the run': 'batch, q_pos, k_pos', computed: 'on every forward',
  });
  assert.match(Object.fromEntries(describeComponent(tree, { kind: 'hook', name: 'blocks.1.attn.hook_z' }).facts).computed, /opt-in/);
  assert.equal(Object.fromEntries(describeComponent(tree, { kind: 'hook', name: 'hook_embed' }).facts).layer, 'model-wide');
  assert.match(describeComponent(tree, { kind: 'hook', name: 'blocks.9.hook_nothing' }).error ?? '', /no hook point blocks\.9\.hook_nothing in toy/);
});

test('out-of-range components say so', () => {
  assert.match(describeComponent(model, { kind: 'head', layer: 2, head: 0 }).error ?? '', /layer 2 out of range: toy has layers 0\.\.1/);
  assert.match(describeComponent(model, { kind: 'head', layer: 1, head: 4 }).error ?? '', /head 4 out of range/);
  assert.match(describeComponent(model, { kind: 'neuron', layer: 1, neuron: 16 }).error ?? '', /neuron 16 out of range/);
  assert.match(describeComponent({ ...model, d_mlp: 0 }, { kind: 'mlp', layer: 0 }).error ?? '', /no MLPs/);
  assert.deepEqual(describeComponent(model, { kind: 'resid', layer: 1, point: 'pre' }).hookPoints.map((p) => p.name), ['blocks.1.hook_resid_pre']);
});

test('diagnostics map 1-based, end-exclusive spans onto the document', () => {
  const doc = Text.of(['model "x"', 'let a = head 7.1']);
  const base = { file: 'a.circuit', severity: 'error' as const, code: 'E012', message: 'layer 7 is out of range', hint: 'x has 2 layers' };
  const d = toCodeMirror(doc, { ...base, line: 2, col: 14, end_line: 2, end_col: 15 });
  assert.equal(doc.sliceString(d.from, d.to), '7');
  assert.equal(d.message, 'layer 7 is out of range\nhint: x has 2 layers');
  const elsewhere = toCodeMirror(doc, { ...base, line: 9, col: 3, end_line: 9, end_col: 4 }, false);
  assert.deepEqual([elsewhere.from, elsewhere.to], [0, 1]);
  assert.match(elsewhere.message, /^a\.circuit:9:3: layer 7/);
  const past = toCodeMirror(doc, { ...base, line: 40, col: 99, end_line: 40, end_col: 100 });
  assert.ok(past.from <= doc.length && past.to <= doc.length, 'a stale position is clamped');
});

function base64Floats(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}

test('a report decodes its tensors and takes rows of them', async () => {
  const data: ReportData = {
    format: 'circuitry.report', version: 1, results: { format: 'circuitry.results', source: 'a.circuit' } as unknown as ReportData['results'],
    circuit: null, model: null, source: null,
    tensors: [{ name: 'x/y', dtype: 'F32', shape: [3, 2], data: base64Floats([1, 2, 3, 4, 5, 6]) }],
  };
  const source = new ReportSource(data);
  const [run] = await source.runs();
  assert.equal(run.state, 'done');
  const all = await source.tensor(run.id, 'x/y');
  assert.deepEqual([...all.data], [1, 2, 3, 4, 5, 6]);
  const rows = await source.tensor(run.id, 'x/y', [1, 3]);
  assert.deepEqual(rows.shape, [2, 2]);
  assert.deepEqual([...rows.data], [3, 4, 5, 6]);
  await assert.rejects(source.tensor(run.id, 'nope'), /not in this report/);
  await assert.rejects(source.tensor(run.id, 'x/y', [2, 4]), /out of 0\.\.3/);
  await assert.rejects(source.saveFile('a.circuit', ''), /read-only/);
});

test('the tensor cache loads once and evicts the least recently used', async () => {
  const cache = new TensorCache(16);  // room for two 8-byte tensors
  let loads = 0;
  const load = (name: string) => async (): Promise<Tensor> => { loads++; return { name, shape: [2], data: new Float32Array(2) }; };
  await cache.get('a', load('a'));
  await cache.get('a', load('a'));
  assert.equal(loads, 1);
  await cache.get('b', load('b'));
  await cache.get('a', load('a'));  // a is now the most recent
  await cache.get('c', load('c'));  // evicts b
  await cache.get('a', load('a'));
  assert.equal(loads, 3);
  await cache.get('b', load('b'));
  assert.equal(loads, 4);
  await assert.rejects(cache.get('bad', async () => { throw new Error('offline'); }), /offline/);
  await cache.get('bad', load('bad'));  // a failure is not cached
});
