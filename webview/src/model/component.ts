// Components of a model as the .circuit language names them (head 9.6, mlp 3, resid 5 pre, ...),
// and what they are in a given model: layer, head, hook points with shapes. Shared by the
// editor's hover and the model tree's inspector, so both say the same thing.
import type { Axis, HookPoint, ModelTree } from '../data/api_types';

export type ComponentRef =
  | { kind: 'head' | 'kv_head'; layer: number; head: number }
  | { kind: 'heads'; layer: number | '*'; head: number | '*' }
  | { kind: 'mlp' | 'attn'; layer: number | '*' }
  | { kind: 'neuron'; layer: number; neuron: number | '*' }
  | { kind: 'resid'; layer: number | '*'; point: string }
  | { kind: 'embed' | 'logits' }
  | { kind: 'hook'; name: string };  // a hook point by its name (blocks.1.attn.hook_pattern)

export interface ComponentDescription {
  title: string;            // "head 9.6"
  summary: string;          // "attention head 6 of layer 9"
  facts: [string, string][];
  hookPoints: HookPoint[];  // where the component's activations can be read or changed
  error: string | null;     // out of range for this model
}

const part = (s: string): number | '*' => (s === '*' ? '*' : Number(s));

// The component spelled at [0, text.length) of a source slice, e.g. "head 9.6" or "resid 5 pre".
export function parseComponent(text: string): ComponentRef | null {
  let m = /^(head|heads|kv_head|mlp|attn|neuron)\s+(\d+|\*)(?:\.(\d+|\*))?$/.exec(text);
  if (m) {
    const kind = m[1];
    const a = part(m[2]);
    const b = m[3] === undefined ? null : part(m[3]);
    switch (kind) {
      case 'head':
      case 'kv_head':
        if (typeof a === 'number' && typeof b === 'number') return { kind, layer: a, head: b };
        return { kind: 'heads', layer: a, head: b ?? '*' };
      case 'heads':
        return { kind: 'heads', layer: a, head: b ?? '*' };
      case 'mlp':
      case 'attn':
        return b === null ? { kind, layer: a } : null;
      case 'neuron':
        return typeof a === 'number' && b !== null ? { kind: 'neuron', layer: a, neuron: b } : null;
    }
  }
  m = /^resid\s+(\d+|\*)\s+([A-Za-z_]+)$/.exec(text);
  if (m) return { kind: 'resid', layer: part(m[1]), point: m[2] };
  if (text === 'embed' || text === 'logits') return { kind: text };
  return null;
}

// Source patterns of components, for finding the one under the mouse in a line.
// (An address may end in '*', after which \b cannot match: the end is "no word character or dot".)
export const COMPONENT_PATTERN =
  /\b(?:(?:head|heads|kv_head|mlp|attn|neuron)\s+(?:\d+|\*)(?:\.(?:\d+|\*))?(?![\w.])|resid\s+(?:\d+|\*)\s+[A-Za-z_]+\b|(?:embed|logits)\b)/g;

export function shapeText(shape: Axis[]): string {
  return `[${shape.join(', ')}]`;
}

function layerPoints(model: ModelTree, layer: number, test: (name: string) => boolean): HookPoint[] {
  return model.hook_points.filter((p) => p.layer === layer && test(p.name));
}

function layerError(model: ModelTree, layer: number | '*'): string | null {
  if (layer === '*' || (layer >= 0 && layer < model.n_layers)) return null;
  return `layer ${layer} out of range: ${model.name} has layers 0..${model.n_layers - 1}`;
}

export function describeComponent(model: ModelTree, ref: ComponentRef): ComponentDescription {
  const d: ComponentDescription = { title: '', summary: '', facts: [], hookPoints: [], error: null };
  const nKv = model.n_kv_heads ?? model.n_heads;
  switch (ref.kind) {
    case 'head':
    case 'kv_head': {
      const count = ref.kind === 'head' ? model.n_heads : nKv;
      d.title = `${ref.kind} ${ref.layer}.${ref.head}`;
      d.summary = `${ref.kind === 'head' ? 'attention head' : 'key/value head'} ${ref.head} of layer ${ref.layer}`;
      d.error = layerError(model, ref.layer) ??
        (ref.head < count ? null : `head ${ref.head} out of range: layer ${ref.layer} has heads 0..${count - 1}`);
      d.facts.push(['layer', String(ref.layer)], [ref.kind === 'head' ? 'head' : 'kv head', String(ref.head)]);
      if (model.d_head) d.facts.push(['d_head', String(model.d_head)]);
      if (ref.kind === 'head' && nKv !== model.n_heads)
        d.facts.push(['shares k/v with', `kv_head ${ref.layer}.${Math.floor(ref.head / (model.n_heads / nKv))}`]);
      d.hookPoints = layerPoints(model, ref.layer, (n) => n.includes('.attn.'));
      break;
    }
    case 'heads': {
      d.title = `heads ${ref.layer}.${ref.head}`;
      const layers = ref.layer === '*' ? `every layer (${model.n_layers})` : `layer ${ref.layer}`;
      d.summary = ref.head === '*' ? `all ${model.n_heads} attention heads of ${layers}` : `head ${ref.head} of ${layers}`;
      d.error = layerError(model, ref.layer) ??
        (ref.head === '*' || ref.head < model.n_heads ? null : `head ${ref.head} out of range: heads are 0..${model.n_heads - 1}`);
      const count = (ref.layer === '*' ? model.n_layers : 1) * (ref.head === '*' ? model.n_heads : 1);
      d.facts.push(['heads', String(count)]);
      if (typeof ref.layer === 'number') d.hookPoints = layerPoints(model, ref.layer, (n) => n.includes('.attn.'));
      break;
    }
    case 'mlp':
    case 'attn': {
      d.title = `${ref.kind} ${ref.layer}`;
      const what = ref.kind === 'mlp' ? 'MLP' : 'attention layer (all heads together)';
      d.summary = ref.layer === '*' ? `the ${what} of every layer` : `the ${what} of layer ${ref.layer}`;
      d.error = layerError(model, ref.layer);
      if (ref.kind === 'mlp' && !model.d_mlp) d.error = `${model.name} has no MLPs`;
      if (ref.kind === 'mlp' && model.d_mlp) d.facts.push(['d_mlp', String(model.d_mlp)]);
      if (typeof ref.layer === 'number') {
        const test = ref.kind === 'mlp'
          ? (n: string) => n.includes('.mlp.') || n.endsWith('hook_mlp_in') || n.endsWith('hook_mlp_out') || n.includes('.ln2.')
          : (n: string) => n.endsWith('hook_attn_out') || n.includes('.ln1.');
        d.hookPoints = layerPoints(model, ref.layer, test);
      }
      break;
    }
    case 'neuron': {
      d.title = `neuron ${ref.layer}.${ref.neuron}`;
      d.summary = `${ref.neuron === '*' ? 'every neuron' : `neuron ${ref.neuron}`} of the MLP of layer ${ref.layer}`;
      d.error = !model.d_mlp ? `${model.name} has no MLPs` : layerError(model, ref.layer) ??
        (ref.neuron === '*' || ref.neuron < model.d_mlp ? null : `neuron ${ref.neuron} out of range: the MLP has 0..${model.d_mlp - 1}`);
      if (model.d_mlp) d.facts.push(['d_mlp', String(model.d_mlp)]);
      d.hookPoints = layerPoints(model, ref.layer, (n) => n.endsWith('.mlp.hook_post') || n.endsWith('.mlp.hook_pre'));
      break;
    }
    case 'resid': {
      d.title = `resid ${ref.layer} ${ref.point}`;
      d.summary = `the residual stream ${ref.point === 'pre' ? 'entering' : ref.point === 'post' ? 'leaving' : 'in the middle of'} layer ${ref.layer}`;
      d.error = layerError(model, ref.layer);
      if (typeof ref.layer === 'number') {
        d.hookPoints = layerPoints(model, ref.layer, (n) => n.endsWith(`hook_resid_${ref.point}`));
        if (d.hookPoints.length === 0 && !d.error) d.error = `no hook_resid_${ref.point} in ${model.name}`;
      }
      if (model.d_model) d.facts.push(['d_model', String(model.d_model)]);
      break;
    }
    case 'embed':
      d.title = 'embed';
      d.summary = 'the token (and position) embeddings: the input of the residual stream';
      d.hookPoints = model.hook_points.filter((p) => p.name === 'hook_embed' || p.name === 'hook_pos_embed');
      if (model.d_vocab) d.facts.push(['d_vocab', String(model.d_vocab)]);
      break;
    case 'hook': {
      const point = model.hook_points.find((p) => p.name === ref.name);
      d.title = ref.name;
      if (!point) {
        d.summary = 'hook point';
        d.error = `no hook point ${ref.name} in ${model.name}`;
        break;
      }
      d.summary = point.doc ?? 'hook point';
      d.facts.push(['layer', point.layer === null || point.layer === undefined ? 'model-wide' : String(point.layer)]);
      d.facts.push(['shape', shapeText(point.shape)]);
      const runAxes = point.shape.filter((a) => typeof a === 'string');
      if (runAxes.length) d.facts.push(['set by the run', runAxes.join(', ')]);
      d.facts.push(['computed', point.opt_in ? 'only when a plan reads it (opt-in: extra work)' : 'on every forward']);
      break;
    }
    case 'logits':
      d.title = 'logits';
      d.summary = 'the unembedded output: one logit per vocabulary token';
      d.hookPoints = model.hook_points.filter((p) => p.name === 'hook_logits' || p.name.startsWith('ln_final.'));
      if (model.d_vocab) d.facts.push(['d_vocab', String(model.d_vocab)]);
      break;
  }
  return d;
}
