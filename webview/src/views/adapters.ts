// Pure functions that turn a run's documents (results.json, circuit.json) and tensors into the
// data types of the views (types.ts). Part of the webview's views layer; no DOM, so the unit
// tests run them under plain Node.
import type {
  AttentionPatternData,
  CircuitDocument,
  CircuitGraphData,
  ClaimsData,
  DetectorData,
  DetectorKind,
  DetectorScores,
  DlaData,
  GraphEdge,
  GraphNode,
  Grid,
  HeatmapData,
  LogitLensData,
  NodeKind,
  NodeRef,
  PatchingData,
  ProvenanceData,
  ResultsDocument,
  ResultsExperiment,
  ResultsSave,
  SourceLocation,
  Tensor,
  ViewEntry,
} from "./types";

const HEAD_ID = /^a(\d+)\.h(\d+)$/;
const MLP_ID = /^m(\d+)$/;
const LAYER_ID = /^(?:attn|resid)(\d+)$/;

/** The node an id names: "a1.h3", "m4", "input", "logits" (anything else is kind "other"). */
export function parseNodeId(id: string): NodeRef {
  let m = HEAD_ID.exec(id);
  if (m) return { id, kind: "attention", layer: Number(m[1]), head: Number(m[2]) };
  m = MLP_ID.exec(id);
  if (m) return { id, kind: "mlp", layer: Number(m[1]), head: null };
  if (id === "input" || id === "embed") return { id, kind: "input", layer: null, head: null };
  if (id === "logits") return { id, kind: "logits", layer: null, head: null };
  m = LAYER_ID.exec(id);
  return { id, kind: "other", layer: m ? Number(m[1]) : null, head: null };
}

/** An edge id "a0.h1->a1.h2<k>" split into sender, receiver and input; null when malformed. */
export function parseEdgeId(id: string): { source: string; target: string; input: "q" | "k" | "v" | null } | null {
  // By hand rather than by EDGE_ID: EAP over SmolLM2 scores 70k edges, parsed on every load.
  const arrow = id.indexOf("->");
  if (arrow <= 0) return null;
  let end = id.length;
  let input: "q" | "k" | "v" | null = null;
  if (id.charCodeAt(end - 1) === 62 /* > */ && id.charCodeAt(end - 3) === 60 /* < */) {
    const c = id[end - 2];
    if (c !== "q" && c !== "k" && c !== "v") return null;
    input = c;
    end -= 3;
  }
  if (end <= arrow + 2) return null;
  return { source: id.slice(0, arrow), target: id.slice(arrow + 2, end), input };
}

/** "examples/induction.circuit:31:1" parsed; null when it has no line and column. */
export function parseLocation(text: string | undefined | null): SourceLocation | null {
  if (!text) return null;
  const m = /^(.*):(\d+):(\d+)$/.exec(text);
  if (!m) return null;
  return { file: m[1], line: Number(m[2]), col: Number(m[3]) };
}

/** The label a node shows in the graph. */
export function nodeLabel(node: NodeRef): string {
  switch (node.kind) {
    case "attention":
      return `${node.layer}.${node.head}`;
    case "mlp":
      return `MLP ${node.layer}`;
    case "input":
      return "embed";
    case "logits":
      return "logits";
    default:
      return node.id;
  }
}

function range(n: number, label: (i: number) => string = String): string[] {
  return Array.from({ length: n }, (_, i) => label(i));
}

function headCell(row: number, col: number): NodeRef {
  return { id: `a${row}.h${col}`, kind: "attention", layer: row, head: col };
}

/** A layer x head grid from scores keyed by node id ("a1.h3"); missing heads are NaN. */
export function headGrid(scores: Record<string, number | null>, nLayers: number, nHeads: number): Grid {
  const values = new Float32Array(nLayers * nHeads).fill(NaN);
  for (const [id, value] of Object.entries(scores)) {
    const m = HEAD_ID.exec(id);
    if (!m) continue;
    const l = Number(m[1]);
    const h = Number(m[2]);
    if (l < nLayers && h < nHeads) values[l * nHeads + h] = value ?? NaN;
  }
  return layerHeadGrid(values, nLayers, nHeads);
}

/** Row-major layer x head values as a grid whose cells are heads. */
function layerHeadGrid(values: Float32Array, nLayers: number, nHeads: number): Grid {
  return {
    rows: nLayers,
    cols: nHeads,
    values,
    rowLabels: range(nLayers),
    colLabels: range(nHeads),
    rowAxis: "layer",
    colAxis: "head",
    cellNode: headCell,
  };
}

/** A grid over a 2-D tensor (a 1-D tensor is one column). */
export function gridFromTensor(
  tensor: Tensor,
  rowAxis: string,
  colAxis: string,
  labels: { rows?: string[]; cols?: string[] } = {},
): Grid {
  if (tensor.shape.length < 1 || tensor.shape.length > 2) {
    throw new Error(`gridFromTensor: expected a 1-D or 2-D tensor, got shape [${tensor.shape.join(", ")}]`);
  }
  const rows = tensor.shape[0];
  const cols = tensor.shape.length === 2 ? tensor.shape[1] : 1;
  if (tensor.data.length !== rows * cols) {
    throw new Error(`gridFromTensor: shape [${tensor.shape.join(", ")}] does not match ${tensor.data.length} values`);
  }
  const isHeads = rowAxis === "layer" && colAxis === "head";
  return {
    rows,
    cols,
    values: tensor.data,
    rowLabels: labels.rows ?? range(rows),
    colLabels: labels.cols ?? range(cols),
    rowAxis,
    colAxis,
    cellNode: isHeads ? headCell : null,
  };
}

function firstAnalysis(exp: ResultsExperiment | undefined) {
  return exp?.analyses?.[0];
}

function experiment(results: ResultsDocument, name: string): ResultsExperiment | undefined {
  return results.experiments.find((e) => e.name === name);
}

/**
 * Token strings of the prompts an experiment ran on: its first batch with tokens (results.json
 * `batches`, clean prompts first), else its task's (`tasks`); null when the run has neither.
 */
export function experimentTokens(results: ResultsDocument, exp: ResultsExperiment | undefined): string[][] | null {
  for (const name of exp?.batches ?? []) {
    const tokens = results.batches?.[name]?.tokens;
    if (tokens) return tokens;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Patching.

/** Heatmaps of an activation-patching experiment from its sweeps' items. */
export function patchingFromExperiment(
  exp: ResultsExperiment,
  nLayers: number,
  nHeads: number,
  tokens: string[] | null = null,
): PatchingData {
  const heatmaps: HeatmapData[] = [];
  let metric = "";
  for (const sweep of exp.sweeps ?? []) {
    metric = sweep.metric;
    const items = sweep.items.filter((it) => it.layer !== null && it.layer !== undefined);
    const hasHeads = items.some((it) => it.head !== null && it.head !== undefined);
    const positions = [...new Set(items.map((it) => it.position ?? 0))].sort((a, b) => a - b);
    const what = sweep.hook.replace("blocks.{layer}.", "");
    const byLayer = (fill: (values: Float32Array, cols: number, pos: number | null) => void, cols: number, pos: number | null) => {
      const values = new Float32Array(nLayers * cols).fill(NaN);
      fill(values, cols, pos);
      return values;
    };
    if (hasHeads) {
      // One layer x head map per position (usually one: `heads * @ -1`).
      for (const pos of positions) {
        const values = byLayer((v) => {
          for (const it of items) {
            if ((it.position ?? 0) !== pos || it.head === null || it.head === undefined) continue;
            if (it.layer! < nLayers && it.head < nHeads) v[it.layer! * nHeads + it.head] = it.value ?? NaN;
          }
        }, nHeads, pos);
        const where = positions.length > 1 || pos !== 0 ? ` @ ${positionLabel(pos, tokens)}` : "";
        heatmaps.push({
          title: `${sweep.name}: ${what}${where}`,
          grid: layerHeadGrid(values, nLayers, nHeads),
          scale: "diverging",
          valueLabel: sweep.metric,
        });
      }
    } else {
      const cols = positions.length;
      const values = byLayer((v) => {
        for (const it of items) {
          const c = positions.indexOf(it.position ?? 0);
          if (it.layer! < nLayers) v[it.layer! * cols + c] = it.value ?? NaN;
        }
      }, cols, null);
      heatmaps.push({
        title: `${sweep.name}: ${what}`,
        grid: {
          rows: nLayers,
          cols,
          values,
          rowLabels: range(nLayers),
          colLabels: positions.map((p) => positionLabel(p, tokens)),
          rowAxis: "layer",
          colAxis: "position",
          cellNode: null,
        },
        scale: "diverging",
        valueLabel: sweep.metric,
      });
    }
  }
  return { name: exp.name, metric, heatmaps };
}

function positionLabel(pos: number, tokens: string[] | null): string {
  if (!tokens) return String(pos);
  const i = pos < 0 ? tokens.length + pos : pos;
  return i >= 0 && i < tokens.length ? `${pos} ${showToken(tokens[i])}` : String(pos);
}

/** A token as shown: whitespace made visible, so " Mary" (·Mary) and "Mary" differ. */
export function showToken(token: string): string {
  return token.replace(/ /g, "·").replace(/\n/g, "↵").replace(/\t/g, "→");
}

// ---------------------------------------------------------------------------------------------
// Circuit graph.

function graphNode(id: string, score: number | null, inCircuit: boolean): GraphNode {
  const ref = parseNodeId(id);
  return { ...ref, label: nodeLabel(ref), score, inCircuit };
}

function collectNodes(
  edges: GraphEdge[],
  extra: { id: string; score: number | null; inCircuit: boolean }[],
): GraphNode[] {
  const nodes = new Map<string, GraphNode>();
  for (const n of extra) nodes.set(n.id, graphNode(n.id, n.score, n.inCircuit));
  for (const e of edges) {
    for (const id of [e.source, e.target]) {
      const have = nodes.get(id);
      if (!have) nodes.set(id, graphNode(id, null, e.inCircuit));
      else if (e.inCircuit) have.inCircuit = true;
    }
  }
  return [...nodes.values()];
}

/** The circuit graph of an interchange document (circuit.json). */
export function graphFromCircuitDocument(doc: CircuitDocument): CircuitGraphData {
  const shape = doc.model.shape ?? {};
  const edges: GraphEdge[] = doc.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    input: e.input === "q" || e.input === "k" || e.input === "v" ? e.input : null,
    score: typeof e.score === "number" ? e.score : null,
    inCircuit: e.in_circuit !== false,
  }));
  const nodes = collectNodes(
    edges,
    doc.nodes.map((n) => ({ id: n.id, score: typeof n.score === "number" ? n.score : null, inCircuit: true })),
  );
  return {
    title: doc.name,
    nLayers: shape.n_layers ?? maxLayer(nodes) + 1,
    nHeads: shape.n_heads ?? maxHead(nodes) + 1,
    nodes,
    edges,
    filter: { mode: "circuit" },
  };
}

/**
 * The graph of every scored edge (EAP over SmolLM2: 70k of them) with the circuit's edges
 * marked. Unparseable ids are skipped.
 */
export function graphFromEdgeScores(
  title: string,
  scores: Record<string, number | null>,
  circuit: string[],
  nLayers: number,
  nHeads: number,
): CircuitGraphData {
  const inCircuit = new Set(circuit);
  const edges: GraphEdge[] = [];
  const add = (id: string, score: number | null) => {
    const p = parseEdgeId(id);
    if (p) edges.push({ id, source: p.source, target: p.target, input: p.input, score, inCircuit: inCircuit.has(id) });
  };
  for (const id in scores) add(id, scores[id]);
  // Circuit edges without a score (a hand-written part of a union) are kept, unscored.
  for (const id of inCircuit) if (!(id in scores)) add(id, null);
  return { title, nLayers, nHeads, nodes: collectNodes(edges, []), edges, filter: { mode: "circuit" } };
}

/**
 * Each node's score in a run: of the scores the program measured (results.json `scores`), the
 * largest in magnitude, as circuit.json's nodes carry it (so the graph needs only results.json).
 */
export function nodeScoresFromResults(results: ResultsDocument): Map<string, number> {
  const best = new Map<string, number>();
  for (const byNode of Object.values(results.scores ?? {})) {
    for (const id in byNode) {
      const s = byNode[id];
      if (typeof s !== "number" || !Number.isFinite(s)) continue;
      const old = best.get(id);
      if (old === undefined || Math.abs(s) > Math.abs(old)) best.set(id, s);
    }
  }
  return best;
}

/**
 * The graph of circuit NAME of a run: every edge score its experiment measured when it has
 * them (eap, eap_ig, acdc), else the circuit's edges; node scores from the run's scores.
 * Null when the run has no such circuit (the document's own graph: graphFromCircuitDocument).
 */
export function graphFromResults(results: ResultsDocument, name: string): CircuitGraphData | null {
  const { n_layers: nLayers, n_heads: nHeads } = results.model;
  const analysis = firstAnalysis(experiment(results, name));
  const listed = results.circuits?.[name];
  const circuitEdges = listed ?? analysis?.circuit ?? [];
  let graph: CircuitGraphData | null = null;
  if (analysis?.edges) {
    graph = graphFromEdgeScores(name, analysis.edges, analysis.circuit ?? circuitEdges, nLayers, nHeads);
  } else if (listed) {
    graph = graphFromEdgeScores(name, {}, circuitEdges, nLayers, nHeads);
  }
  if (!graph) return null;
  const nodeScores = nodeScoresFromResults(results);
  for (const n of graph.nodes) {
    const s = nodeScores.get(n.id);
    if (n.score === null && s !== undefined) n.score = s;
  }
  return graph;
}

/** Nodes of the run's listed circuits (results.json `circuits`), by id. */
export function circuitNodeIds(results: ResultsDocument): Set<string> {
  const ids = new Set<string>();
  for (const edges of Object.values(results.circuits ?? {})) {
    for (const id of edges) {
      const p = parseEdgeId(id);
      if (p) ids.add(p.source).add(p.target);
    }
  }
  return ids;
}

/**
 * Whether the run's interchange document (circuit.json) is worth a graph of its own: it holds
 * the union of every circuit the run discovered or measured, so it adds something only when it
 * has edges beyond the `circuits` results.json lists (a circuit written in the file). Results
 * from before `document` was written: when they list no circuits.
 */
export function documentAddsCircuits(results: ResultsDocument): boolean {
  const listed = new Set<string>();
  for (const edges of Object.values(results.circuits ?? {})) for (const id of edges) listed.add(id);
  if (results.document) return results.document.edges > listed.size;
  return listed.size === 0 && results.experiments.some((e) => (e.analyses ?? []).some((a) => CIRCUIT_MEASURES.has(a.kind)));
}

const CIRCUIT_MEASURES = new Set(["faithfulness", "completeness", "minimality", "circuit_curve"]);

function maxLayer(nodes: NodeRef[]): number {
  return nodes.reduce((m, n) => Math.max(m, n.layer ?? -1), 0);
}

function maxHead(nodes: NodeRef[]): number {
  return nodes.reduce((m, n) => Math.max(m, n.head ?? -1), 0);
}

// ---------------------------------------------------------------------------------------------
// Attention patterns.

/** Where a head's pattern is saved: the tensor's name and the head's index on its second axis. */
export interface PatternLocation {
  experiment: string;
  tensor: string; // "patterns/blocks.1.attn.hook_pattern"
  slot: number;
  shape: number[];
}

/** Which slot of a pattern save holds `head`, or null (saves of some heads must say which). */
export function headSlot(save: ResultsSave, head: number, nHeads: number): number | null {
  if (save.heads) {
    const i = save.heads.indexOf(head);
    return i >= 0 ? i : null;
  }
  return save.shape[1] === nHeads && head < nHeads ? head : null;
}

/** Every saved attention pattern of head layer.head in a run. */
export function findPatterns(results: ResultsDocument, layer: number, head: number): PatternLocation[] {
  const hook = `blocks.${layer}.attn.hook_pattern`;
  const found: PatternLocation[] = [];
  for (const exp of results.experiments) {
    for (const pass of exp.passes ?? []) {
      for (const save of pass.saves) {
        if (save.hook !== hook || save.shape.length !== 4) continue;
        const slot = headSlot(save, head, results.model.n_heads);
        if (slot !== null) found.push({ experiment: exp.name, tensor: `${exp.name}/${save.hook}`, slot, shape: save.shape });
      }
    }
  }
  return found;
}

/** Heads whose attention pattern a run saved (for the shell: which heads are clickable). */
export function headsWithPatterns(results: ResultsDocument): NodeRef[] {
  const heads: NodeRef[] = [];
  for (let l = 0; l < results.model.n_layers; l++) {
    for (let h = 0; h < results.model.n_heads; h++) {
      if (findPatterns(results, l, h).length > 0) heads.push(headCell(l, h));
    }
  }
  return heads;
}

/** One head's [rows, q, k] pattern out of a [rows, heads, q, k] save. */
export function attentionFromTensor(
  tensor: Tensor,
  slot: number,
  layer: number,
  head: number,
  tokens: string[][] | null,
): AttentionPatternData {
  if (tensor.shape.length !== 4) {
    throw new Error(`attention pattern: expected [rows, heads, q, k], got [${tensor.shape.join(", ")}]`);
  }
  const [rows, heads, nq, nk] = tensor.shape;
  if (slot < 0 || slot >= heads) throw new Error(`attention pattern: head slot ${slot} outside 0..${heads - 1}`);
  const block = nq * nk;
  const data = new Float32Array(rows * block);
  for (let r = 0; r < rows; r++) {
    const from = (r * heads + slot) * block;
    data.set(tensor.data.subarray(from, from + block), r * block);
  }
  return { layer, head, pattern: { data, shape: [rows, nq, nk] }, tokens, row: 0 };
}

// ---------------------------------------------------------------------------------------------
// Logit lens, DLA, detectors.

/**
 * The logit lens of experiment NAME from its tensors `NAME/metric` (null for a lens without a
 * metric), `NAME/metric_per_row` and, per position, `NAME/top_tokens` and `NAME/top_probs`.
 */
export function logitLensFromResults(
  results: ResultsDocument,
  name: string,
  metric: Tensor | null,
  perRow: Tensor | null,
  top: { tokens: Tensor; probs: Tensor } | null = null,
): LogitLensData {
  const exp = experiment(results, name);
  const analysis = firstAnalysis(exp);
  const modelValue = analysis?.values?.model;
  const shaped = top !== null && top.tokens.shape.length === 3 && top.tokens.shape.join() === top.probs.shape.join();
  return {
    name,
    metric: "metric",
    perLayer: metric?.data ?? new Float32Array(0),
    modelValue: typeof modelValue === "number" ? modelValue : null,
    grid: perRow && perRow.shape.length === 2 ? gridFromTensor(perRow, "layer", "prompt") : null,
    positions: shaped
      ? { topTokens: top.tokens, topProbs: top.probs, tokenText: analysis?.token_text ?? {}, prompts: experimentTokens(results, exp) }
      : null,
  };
}

/** Direct logit attribution of experiment NAME from its nodes (no tensor needed). */
export function dlaFromResults(results: ResultsDocument, name: string): DlaData | null {
  const analysis = firstAnalysis(experiment(results, name));
  if (!analysis?.nodes) return null;
  const { n_layers: nLayers, n_heads: nHeads } = results.model;
  let mlps: Float32Array | null = null;
  for (const [id, v] of Object.entries(analysis.nodes)) {
    const m = MLP_ID.exec(id);
    if (!m || Number(m[1]) >= nLayers) continue;
    mlps ??= new Float32Array(nLayers).fill(NaN);
    mlps[Number(m[1])] = v ?? NaN;
  }
  const values = analysis.values ?? {};
  const input = analysis.nodes.input ?? values.input;
  return {
    name,
    metric: "metric",
    heads: headGrid(analysis.nodes, nLayers, nHeads),
    mlps,
    input: typeof input === "number" ? input : null,
    bias: typeof values.bias === "number" ? values.bias : null,
    logit: typeof values.logit === "number" ? values.logit : null,
  };
}

const DETECTORS: DetectorKind[] = ["previous_token_score", "induction_score", "duplicate_token_score", "copying_score"];

/** Every head-detector experiment of a run, in program order. */
export function detectorsFromResults(results: ResultsDocument): DetectorData {
  const { n_layers: nLayers, n_heads: nHeads } = results.model;
  const detectors: DetectorScores[] = [];
  for (const exp of results.experiments) {
    if (!DETECTORS.includes(exp.kind as DetectorKind)) continue;
    const nodes = firstAnalysis(exp)?.nodes ?? results.scores?.[exp.name];
    if (!nodes) continue;
    detectors.push({ name: exp.name, kind: exp.kind as DetectorKind, grid: headGrid(nodes, nLayers, nHeads) });
  }
  return { nLayers, nHeads, detectors };
}

/** The k heads with the highest value of a layer x head grid, best first (NaN left out). */
export function rankHeads(grid: Grid, k: number): { node: NodeRef; value: number }[] {
  const ranked: { node: NodeRef; value: number }[] = [];
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const v = grid.values[r * grid.cols + c];
      if (Number.isNaN(v)) continue;
      ranked.push({ node: grid.cellNode?.(r, c) ?? headCell(r, c), value: v });
    }
  }
  ranked.sort((a, b) => b.value - a.value || (a.node.layer ?? 0) - (b.node.layer ?? 0));
  return ranked.slice(0, k);
}

// ---------------------------------------------------------------------------------------------
// Claims and provenance.

export function claimsFromResults(results: ResultsDocument): ClaimsData {
  return {
    passed: results.passed ?? null,
    claims: (results.claims ?? []).map((c) => ({
      name: c.name,
      expression: c.expression,
      comparator: c.comparator,
      // A claim no stage measured has its bound as written, no threshold: NOT RUN.
      threshold: "threshold" in c ? c.threshold : NaN,
      measured: typeof c.measured === "number" ? c.measured : null,
      passed: "threshold" in c ? c.passed : null,
      location: parseLocation(c.location),
      locationText: c.location ?? "",
    })),
  };
}

export function provenanceFromDocuments(
  results: ResultsDocument,
  doc: CircuitDocument,
  download: ProvenanceData["download"],
): ProvenanceData {
  const p = doc.provenance ?? {};
  const conditions: Record<string, string> = {};
  for (const [k, v] of Object.entries(results.conditions ?? {})) conditions[k] = String(v);
  return {
    circuitName: doc.name,
    model: {
      name: doc.model.name,
      family: doc.model.family,
      weightsSha256: doc.model.weights_sha256 ?? null,
      shape: doc.model.shape ?? {},
    },
    conditions,
    tool: p.tool ?? "circuitry",
    toolVersion: p.tool_version ?? "",
    sourcePath: p.source_path ?? results.source,
    sourceSha256: p.source_sha256 ?? "",
    date: p.date ?? "",
    command: p.command ?? null,
    seconds: results.seconds ?? null,
    forwards: results.forwards ?? null,
    backwards: results.backwards ?? null,
    metric: doc.metric ? `${doc.metric.name}${doc.metric.normalized ? " (normalized)" : ""}` : null,
    task: doc.task?.name ?? null,
    download,
    downloadName: `${doc.name}.circuit.json`,
  };
}

// ---------------------------------------------------------------------------------------------
// What a run can show.

/** The views a results document supports, with the tensors each needs, in a sensible order. */
export function viewIndex(results: ResultsDocument, documentName: string | null = null): ViewEntry[] {
  const entries: ViewEntry[] = [];
  for (const name of Object.keys(results.circuits ?? {})) {
    entries.push({ view: "graph", name, title: `circuit ${name}`, tensors: [] });
  }
  // The document's graph (circuits written in the file) follows the listed ones.
  const docName = results.document?.name ?? documentName;
  if (docName !== null && documentAddsCircuits(results)) {
    entries.push({ view: "graph", name: docName, title: `circuits of ${docName} (circuit.json)`, tensors: [], document: true });
  }
  let detectors = false;
  for (const exp of results.experiments) {
    const analysis = firstAnalysis(exp);
    switch (exp.kind) {
      case "activation_patching":
        entries.push({ view: "patching", name: exp.name, title: `patching ${exp.name}`, tensors: [] });
        break;
      case "logit_lens": {
        const tensors = [`${exp.name}/metric`];
        if (analysis?.tensors?.metric_per_row) tensors.push(`${exp.name}/metric_per_row`);
        entries.push({ view: "logit_lens", name: exp.name, title: `logit lens ${exp.name}`, tensors });
        break;
      }
      case "dla":
        entries.push({ view: "dla", name: exp.name, title: `DLA ${exp.name}`, tensors: [] });
        break;
      case "attention":
        entries.push({
          view: "attention",
          name: exp.name,
          title: `attention ${exp.name}`,
          tensors: (exp.passes ?? []).flatMap((p) => p.saves.map((s) => `${exp.name}/${s.hook}`)),
        });
        break;
      default:
        if (DETECTORS.includes(exp.kind as DetectorKind) && !detectors) {
          detectors = true;
          entries.push({ view: "detectors", name: "", title: "head detectors", tensors: [] });
        }
    }
  }
  if ((results.claims ?? []).length > 0) entries.push({ view: "claims", name: "", title: "claims", tensors: [] });
  entries.push({ view: "provenance", name: "", title: "provenance", tensors: [] });
  return entries;
}

/** The NodeKind of a node id (a shorthand for parseNodeId(id).kind). */
export function nodeKind(id: string): NodeKind {
  return parseNodeId(id).kind;
}
