// Wiring of W2's views (src/views/) into the results pane: which tabs a run has (viewIndex),
// and how each tab fetches what it needs through the DataSource (tensors only when the tab is
// first shown) and mounts its view. The attention tab adds a head picker above the pattern.
import type { DataSource } from '../data/source';
import {
  type CircuitDocument, type NodeRef, type ResultsDocument, type SourceLocation, type ViewEntry, type ViewEvents,
  type ViewHandle, attentionFromTensor, circuitNodeIds, claimsFromResults, detectorsFromResults, dlaFromResults, findPatterns,
  graphFromCircuitDocument, graphFromResults, headsWithPatterns, logitLensFromResults, patchingFromExperiment,
  provenanceFromDocuments, renderAttentionPattern, renderCircuitGraph, renderClaims, renderDetectors, renderDla,
  renderLogitLens, renderPatching, renderProvenance, experimentTokens, viewIndex,
} from '../views';
import { clear, h } from './dom';
import type { RunDocuments } from './results_pane';

export interface ViewContext {
  source: DataSource;
  runId: string;
  selectNode(node: NodeRef): void;
  selectLocation(location: SourceLocation): void;
  // The head the user asked for before the attention view existed (a graph or tree click).
  wantedHead(): { layer: number; head: number } | null;
}

export interface MountedView {
  dispose(): void;
  selectHead?(layer: number, head: number): void;
}

export interface ViewTab {
  key: string;
  kind: ViewEntry['view'];
  label: string;
  title: string;
  mount(element: HTMLElement, docs: RunDocuments, context: ViewContext): Promise<MountedView>;
}

const LABELS: Record<ViewEntry['view'], string> = {
  graph: 'Graph', attention: 'Attention', patching: 'Patching', logit_lens: 'Logit lens', dla: 'DLA',
  detectors: 'Detectors', claims: 'Claims', provenance: 'Provenance',
};

// The data layer's document types describe the same JSON as the views' (looser on purpose).
function resultsOf(docs: RunDocuments): ResultsDocument {
  return docs.results as unknown as ResultsDocument;
}

async function circuitOf(docs: RunDocuments): Promise<CircuitDocument> {
  const circuit = (await docs.circuit()) as unknown as CircuitDocument | null;
  if (!circuit) throw new Error('this run wrote no interchange document (circuit.json)');
  return circuit;
}

function events(context: ViewContext): ViewEvents {
  return { selectNode: (n) => context.selectNode(n), selectLocation: (l) => context.selectLocation(l) };
}

// A view that needs nothing more than the documents.
function simple<D>(render: (el: HTMLElement, data: D, ev: ViewEvents) => ViewHandle<D>, data: D | null, what: string,
  element: HTMLElement, context: ViewContext): MountedView {
  clear(element);
  if (data === null) throw new Error(`${what}: not in this run's results`);
  return render(element, data, events(context));
}

// The attention tab: the heads whose patterns the run saved, by layer, and the chosen head's pattern.
async function mountAttention(element: HTMLElement, docs: RunDocuments, context: ViewContext): Promise<MountedView> {
  const results = resultsOf(docs);
  const heads = headsWithPatterns(results);
  if (heads.length === 0) throw new Error('this run saved no attention patterns');
  clear(element);
  const picker = h('div', { class: 'head-picker', role: 'toolbar', 'aria-label': 'heads' });
  const status = h('div', { class: 'muted head-picker-status' });
  const host = h('div', { class: 'attention-host' });
  element.append(picker, status, host);
  const byLayer = new Map<number, NodeRef[]>();
  for (const n of heads) byLayer.set(n.layer!, [...(byLayer.get(n.layer!) ?? []), n]);
  for (const [layer, list] of byLayer) {
    const row = h('div', { class: 'head-picker-row' }, h('span', { class: 'muted head-picker-layer' }, `layer ${layer}`));
    for (const n of list) row.append(h('button', { class: 'head-chip', 'data-head': n.id, title: `head ${layer}.${n.head}` }, String(n.head)));
    picker.append(row);
  }
  let view: ViewHandle<ReturnType<typeof attentionFromTensor>> | null = null;
  let request = 0;
  let disposed = false;
  const show = async (layer: number, head: number): Promise<void> => {
    const id = `a${layer}.h${head}`;
    for (const b of picker.querySelectorAll<HTMLElement>('[data-head]')) {
      b.classList.toggle('selected', b.dataset.head === id);
      if (b.dataset.head === id) b.scrollIntoView({ block: 'nearest' });
    }
    const found = findPatterns(results, layer, head);
    if (found.length === 0) {
      status.textContent = `head ${layer}.${head}: this run saved no attention pattern for it`;
      return;
    }
    const at = found[0];
    const mine = ++request;
    status.textContent = `head ${layer}.${head} · ${at.tensor} · loading…`;
    const tensor = await context.source.tensor(context.runId, at.tensor);
    if (mine !== request || disposed) return;
    const exp = results.experiments.find((e) => e.name === at.experiment);
    const data = attentionFromTensor(tensor, at.slot, layer, head, experimentTokens(results, exp));
    status.textContent = `head ${layer}.${head} · ${at.tensor} [${tensor.shape.join(', ')}]`;
    if (view) view.update(data);
    else view = renderAttentionPattern(host, data, events(context));
  };
  const showSafely = (layer: number, head: number) =>
    show(layer, head).catch((err: unknown) => { status.textContent = `head ${layer}.${head}: ${err instanceof Error ? err.message : String(err)}`; });
  picker.addEventListener('click', (e) => {
    const b = (e.target as Element).closest<HTMLElement>('[data-head]');
    const n = b && heads.find((x) => x.id === b.dataset.head);
    if (n) {
      void showSafely(n.layer!, n.head!);
      context.selectNode(n);
    }
  });
  // First: the head asked for, else the circuit's highest-layer head with a pattern (the
  // interesting one), else the first head.
  const wanted = context.wantedHead();
  const inCircuit = circuitNodeIds(results);
  const first = (wanted && heads.find((n) => n.layer === wanted.layer && n.head === wanted.head))
    ?? [...heads].reverse().find((n) => inCircuit.has(n.id)) ?? heads[0];
  await show(first.layer!, first.head!);
  return {
    dispose: () => { disposed = true; view?.dispose(); },
    selectHead: (layer, head) => void showSafely(layer, head),
  };
}

async function mountTab(entry: ViewEntry, element: HTMLElement, docs: RunDocuments, context: ViewContext): Promise<MountedView> {
  const results = resultsOf(docs);
  const { n_layers: nLayers, n_heads: nHeads } = results.model;
  switch (entry.view) {
    case 'graph': {
      const data = entry.document ? graphFromCircuitDocument(await circuitOf(docs)) : graphFromResults(results, entry.name);
      clear(element);
      if (!data) throw new Error(`circuit ${entry.name}: not in this run's results`);
      const graph = renderCircuitGraph(element, data, events(context));
      return { dispose: () => graph.dispose(), selectHead: (l, hd) => graph.select(`a${l}.h${hd}`) };
    }
    case 'attention':
      return mountAttention(element, docs, context);
    case 'patching': {
      const exp = results.experiments.find((e) => e.name === entry.name);
      const tokens = experimentTokens(results, exp)?.[0] ?? null;
      return simple(renderPatching, exp ? patchingFromExperiment(exp, nLayers, nHeads, tokens) : null, entry.title, element, context);
    }
    case 'logit_lens': {
      // A lens without a metric has no metric tensors; the per-position lens has top_tokens.
      const kept = results.experiments.find((e) => e.name === entry.name)?.analyses?.[0]?.tensors ?? {};
      const [metricName, perRowName] = entry.tensors;
      const fetch = (name: string | undefined, key: string) =>
        name && kept[key] ? context.source.tensor(context.runId, name) : Promise.resolve(null);
      const [metric, perRow, topTokens, topProbs] = await Promise.all([
        fetch(metricName, 'metric'), fetch(perRowName, 'metric_per_row'),
        fetch(`${entry.name}/top_tokens`, 'top_tokens'), fetch(`${entry.name}/top_probs`, 'top_probs'),
      ]);
      const top = topTokens && topProbs ? { tokens: topTokens, probs: topProbs } : null;
      return simple(renderLogitLens, logitLensFromResults(results, entry.name, metric, perRow, top), entry.title, element, context);
    }
    case 'dla':
      return simple(renderDla, dlaFromResults(results, entry.name), entry.title, element, context);
    case 'detectors':
      return simple(renderDetectors, detectorsFromResults(results), entry.title, element, context);
    case 'claims':
      return simple(renderClaims, claimsFromResults(results), entry.title, element, context);
    case 'provenance': {
      const circuit = await circuitOf(docs);
      const url = await context.source.circuitDownloadUrl(context.runId);
      return simple(renderProvenance, provenanceFromDocuments(results, circuit, { url }), entry.title, element, context);
    }
  }
}

export function viewTabs(docs: RunDocuments): ViewTab[] {
  const entries = viewIndex(resultsOf(docs), docs.documentName);
  return entries.map((entry, i) => ({
    key: `${entry.view}:${entry.name}:${i}`,
    kind: entry.view,
    label: entries.filter((e) => e.view === entry.view).length > 1 ? `${LABELS[entry.view]}: ${entry.name}` : LABELS[entry.view],
    title: entry.title,
    mount: (element, d, context) => mountTab(entry, element, d, context),
  }));
}
