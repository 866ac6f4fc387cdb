// The model as an object tree: the model's summary, its layers (collapsed until opened, so a
// 30-layer model costs nothing until looked at), each layer's heads, attention, MLP and residual
// points, and every hook point with its shape. Clicking any node inspects it; clicking a head
// also selects it for the attention view.
import { clear, h } from '../app/dom';
import type { HookPoint, ModelTree } from '../data/api_types';
import { type ComponentRef, describeComponent, shapeText } from './component';
import { componentCard } from './inspector';

export interface ModelTreeEvents {
  selectHead(layer: number, head: number): void;
}

function refKey(ref: ComponentRef): string {
  return JSON.stringify(ref);
}

export class ModelTreeView {
  readonly element: HTMLElement;
  private readonly tree: HTMLElement;
  private readonly inspector: HTMLElement;
  private model: ModelTree | null = null;
  private selectedKey: string | null = null;

  constructor(private readonly events: ModelTreeEvents) {
    this.tree = h('div', { class: 'model-tree', role: 'tree' });
    this.inspector = h('div', { class: 'model-inspector' }, h('div', { class: 'muted' }, 'Click a layer, head, MLP or hook point to inspect it.'));
    this.element = h('div', { class: 'model-panel' }, this.tree, this.inspector);
    this.tree.addEventListener('click', (e) => this.onClick(e));
  }

  showMessage(text: string): void {
    this.model = null;
    clear(this.tree);
    this.tree.append(h('div', { class: 'muted pad' }, text));
  }

  setModel(model: ModelTree): void {
    this.model = model;
    clear(this.tree);
    const facts: [string, string | number | undefined][] = [
      ['family', model.family], ['layers', model.n_layers], ['heads', model.n_heads],
      ['kv heads', model.n_kv_heads], ['d_model', model.d_model], ['d_head', model.d_head],
      ['d_mlp', model.d_mlp || undefined], ['vocab', model.d_vocab], ['context', model.n_ctx],
      ['parameters', model.parameters?.toLocaleString('en-US')], ['dtype', model.dtype],
    ];
    const summary = h('dl', { class: 'card-facts' });
    for (const [k, v] of facts) if (v !== undefined && v !== '') summary.append(h('dt', {}, k), h('dd', {}, String(v)));
    this.tree.append(h('div', { class: 'model-name' }, model.name), summary);

    this.tree.append(this.leaf({ kind: 'embed' }, 'embed', 'token and position embeddings'));
    const layers = h('div', { class: 'tree-layers' });
    for (let l = 0; l < model.n_layers; ++l) {
      const details = h('details', { class: 'tree-layer', 'data-layer': l },
        h('summary', {}, h('span', { class: 'tree-label' }, `layer ${l}`),
          h('span', { class: 'muted' }, ` ${model.n_heads} heads${model.d_mlp ? ' · MLP' : ''}`)));
      // Built on first open: a closed layer is one element.
      details.addEventListener('toggle', () => {
        if (details.open && details.childElementCount === 1) details.append(this.layerBody(model, l));
      });
      layers.append(details);
    }
    this.tree.append(layers);
    this.tree.append(this.leaf({ kind: 'logits' }, 'logits', 'final norm and unembedding'));
    const global = model.hook_points.filter((p) => p.layer === null || p.layer === undefined);
    if (global.length) this.tree.append(this.hookList('model-wide hook points', global));
  }

  // Marks a head as selected (from the graph or a heatmap) and opens its layer.
  selectHead(layer: number, head: number): void {
    const ref: ComponentRef = { kind: 'head', layer, head };
    const details = this.tree.querySelector<HTMLDetailsElement>(`details[data-layer="${layer}"]`);
    if (details && !details.open) {
      details.open = true;
      if (details.childElementCount === 1) details.append(this.layerBody(this.model!, layer));
    }
    this.inspect(ref);
  }

  private layerBody(model: ModelTree, layer: number): HTMLElement {
    const heads = h('div', { class: 'head-chips' });
    for (let i = 0; i < model.n_heads; ++i) {
      const ref: ComponentRef = { kind: 'head', layer, head: i };
      heads.append(h('button', { class: 'head-chip', 'data-ref': refKey(ref), title: `head ${layer}.${i}` }, String(i)));
    }
    const body = h('div', { class: 'tree-layer-body' },
      h('div', { class: 'tree-row' }, this.leaf({ kind: 'attn', layer }, `attn ${layer}`, 'heads:'), heads));
    if (model.d_mlp) body.append(this.leaf({ kind: 'mlp', layer }, `mlp ${layer}`, `d_mlp ${model.d_mlp}`));
    const points = model.hook_points.filter((p) => p.layer === layer);
    for (const point of ['pre', 'mid', 'post'])
      if (points.some((p) => p.name.endsWith(`hook_resid_${point}`)))
        body.append(this.leaf({ kind: 'resid', layer, point }, `resid ${layer} ${point}`, ''));
    if (points.length) body.append(this.hookList(`hook points (${points.length})`, points));
    return body;
  }

  private leaf(ref: ComponentRef, label: string, note: string): HTMLElement {
    return h('button', { class: 'tree-leaf', 'data-ref': refKey(ref) },
      h('span', { class: 'tree-label' }, label), note ? h('span', { class: 'muted' }, ` ${note}`) : null);
  }

  private hookList(title: string, points: HookPoint[]): HTMLElement {
    const list = h('details', { class: 'tree-hooks' }, h('summary', {}, title));
    const table = h('table', { class: 'hook-table' });
    for (const p of points) {
      const ref: ComponentRef = { kind: 'hook', name: p.name };
      // Within a layer, "attn.hook_pattern" says it: the sidebar is narrow (full name on hover).
      const label = p.name.replace(/^blocks\.\d+\./, '');
      table.append(h('tr', { class: 'hook-row', 'data-ref': refKey(ref), title: `${p.name}${p.doc ? `: ${p.doc}` : ''}` },
        h('td', { class: 'mono' }, label), h('td', { class: 'mono' }, shapeText(p.shape))));
    }
    list.append(table);
    return list;
  }

  private onClick(e: MouseEvent): void {
    const target = (e.target as Element).closest<HTMLElement>('[data-ref]');
    if (!target || !this.model) return;
    const ref = JSON.parse(target.dataset.ref!) as ComponentRef;
    this.inspect(ref);
    if (ref.kind === 'head') this.events.selectHead(ref.layer, ref.head);
  }

  private inspect(ref: ComponentRef): void {
    if (!this.model) return;
    const key = refKey(ref);
    if (this.selectedKey) this.tree.querySelector(`[data-ref='${this.selectedKey}']`)?.classList.remove('selected');
    this.selectedKey = key;
    this.tree.querySelector(`[data-ref='${key}']`)?.classList.add('selected');
    clear(this.inspector);
    this.inspector.append(componentCard(describeComponent(this.model, ref)));
  }
}
