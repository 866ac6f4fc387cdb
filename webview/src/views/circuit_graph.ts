// The circuit graph view: the model's components by layer (embeddings at the bottom, logits at
// the top), edges weighted by |score| and coloured by sign, a slider over how many edges to show,
// hover for ids and scores, click to select a node. Part of the webview's views; the layout is
// graph_layout.ts + ELK in a worker (elk_layout.ts), the drawing SVG.
import { formatNumber, SIGN_COLOURS } from "./colour";
import { availableWidth, el, svg, Tooltip } from "./dom";
import { ElkLayouter } from "./elk_layout";
import {
  elkRequest,
  inputOffset,
  type Layout,
  layoutFromElk,
  layoutKey,
  NODE_H,
  NODE_W,
  placeOnRows,
  provisionalLayout,
  visibleEdges,
  visibleNodes,
} from "./graph_layout";
import type { CircuitGraphData, CircuitGraphHandle, EdgeFilter, GraphEdge, GraphNode, ViewEvents } from "./types";

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** More edges than this make the SVG itself slow; the slider stops there. */
export const MAX_VISIBLE_EDGES = 5000;
/** Edges a large circuit first opens with (its strongest): more would hold the page for seconds. */
export const FIRST_VIEW_EDGES = 300;
const LAYOUT_DEBOUNCE_MS = 120;
const CACHE_SIZE = 24;
const MAX_ZOOM = 1.8;
const MIN_ZOOM = 0.6; // labels stay legible (11 px text drawn at 6.6 px)
const HIT_PATH_LIMIT = 800;
const ZOOM_HEIGHT = 640; // zoom only drawings that stay under this height

export function renderCircuitGraph(
  container: HTMLElement,
  data: CircuitGraphData,
  events: ViewEvents = {},
): CircuitGraphHandle {
  const root = el("div", "cv-graph");
  const title = el("div", "cv-title");
  const modeSelect = el("select", "cv-graph-mode");
  modeSelect.append(new Option("circuit edges", "circuit"), new Option("edges by |score|", "top"));
  const slider = el("input", "cv-graph-slider");
  slider.type = "range";
  const sliderLabel = el("span", "cv-graph-count");
  const status = el("span", "cv-graph-status");
  const legend = el(
    "div",
    "cv-graph-legend",
    el("span", "cv-swatch cv-positive"),
    "positive score",
    el("span", "cv-swatch cv-negative"),
    "negative score",
    el("span", "cv-swatch cv-unscored"),
    "no score · width and opacity: |score| · into a head: query left, key middle, value right",
  );
  const toolbar = el("div", "cv-toolbar", title, modeSelect, slider, sliderLabel, status);
  const scroller = el("div", "cv-graph-scroll");
  const drawing = svg("svg", { class: "cv-graph-svg" });
  scroller.append(drawing);
  root.append(toolbar, legend, scroller);
  container.append(root);
  const tooltip = new Tooltip(root);
  const layouter = new ElkLayouter();
  const cache = new Map<string, { x: Map<string, number>; note: string }>();

  let current = data;
  let byMagnitude: GraphEdge[] = [];
  let unscored: GraphEdge[] = [];
  let nodeById = new Map<string, GraphNode>();
  let withMlps = false;
  let filter: EdgeFilter = { mode: "circuit" };
  let userFilter: EdgeFilter | null = null; // the filter the user set, kept across update()
  let selected: string | null = null;
  let lastX = new Map<string, number>(); // x of the last ELK layout, to keep nodes still while sliding
  let timer: number | undefined;
  let shown: { nodes: GraphNode[]; edges: GraphEdge[]; maxAbs: number } = { nodes: [], edges: [], maxAbs: 1 };
  let shownById = new Map<string, GraphEdge>();
  let nodeEls = new Map<string, SVGGElement>();
  let edgeEls = new Map<string, SVGPathElement>();

  function load(next: CircuitGraphData): void {
    current = next;
    byMagnitude = next.edges.filter((e) => e.score !== null).sort((a, b) => Math.abs(b.score!) - Math.abs(a.score!));
    unscored = next.edges.filter((e) => e.score === null);
    nodeById = new Map(next.nodes.map((n) => [n.id, n]));
    withMlps = next.nodes.some((n) => n.kind === "mlp");
    selected = next.selected ?? selected;
    title.textContent = next.title;
    const circuitEdges = next.edges.filter((e) => e.inCircuit).length;
    const hasCircuit = circuitEdges > 0;
    // A re-run keeps what the user chose with the slider; new data may still name its own filter.
    // A large circuit (thousands of edges, as EAP finds in SmolLM2) opens on its strongest edges:
    // drawing all of them would hold the page for seconds; "circuit edges" shows the rest.
    const fallback: EdgeFilter =
      hasCircuit && circuitEdges <= FIRST_VIEW_EDGES
        ? { mode: "circuit" }
        : { mode: "top", k: Math.min(hasCircuit ? FIRST_VIEW_EDGES : 50, byMagnitude.length) };
    filter = next.filter && !userFilter ? next.filter : (userFilter ?? fallback);
    if (filter.mode === "circuit" && !hasCircuit) filter = { mode: "top", k: Math.min(50, byMagnitude.length) };
    cache.clear();
    lastX = new Map();
    const max = Math.min(MAX_VISIBLE_EDGES, byMagnitude.length);
    slider.min = "1";
    slider.max = String(Math.max(1, max));
    slider.disabled = byMagnitude.length === 0;
    modeSelect.disabled = byMagnitude.length === 0 || !hasCircuit;
    refresh();
  }

  /** The k the slider stands for, on a square-root scale so that small k get room. */
  function sliderToK(): number {
    const max = Number(slider.max);
    const t = (Number(slider.value) - 1) / Math.max(1, max - 1);
    return Math.max(1, Math.round(1 + t * t * (max - 1)));
  }

  function kToSlider(k: number): void {
    const max = Number(slider.max);
    const t = Math.sqrt(Math.max(0, k - 1) / Math.max(1, max - 1));
    slider.value = String(Math.round(1 + t * (max - 1)));
  }

  function currentEdges(): GraphEdge[] {
    if (filter.mode === "top") return unscored.concat(byMagnitude.slice(0, Math.min(filter.k, MAX_VISIBLE_EDGES)));
    if (filter.mode === "threshold") {
      let k = 0;
      while (k < byMagnitude.length && Math.abs(byMagnitude[k].score!) >= filter.minAbsScore) k++;
      return unscored.concat(byMagnitude.slice(0, Math.min(k, MAX_VISIBLE_EDGES)));
    }
    return visibleEdges(current.edges, filter);
  }

  function refresh(fromSlider = false): void {
    const edges = currentEdges();
    // The adapters give every edge's ends a node; an edge whose end is missing is not drawn.
    const nodes = visibleNodes(current.nodes, edges, filter);
    let maxAbs = 0;
    for (const e of edges) if (e.score !== null) maxAbs = Math.max(maxAbs, Math.abs(e.score));
    shown = { nodes, edges, maxAbs: maxAbs || 1 };
    shownById = new Map(edges.map((e) => [e.id, e]));
    modeSelect.value = filter.mode === "circuit" ? "circuit" : "top";
    slider.hidden = filter.mode === "circuit";
    const scored = edges.filter((e) => e.score !== null);
    const t = scored.length ? Math.min(...scored.map((e) => Math.abs(e.score!))) : null;
    if (filter.mode !== "circuit" && !fromSlider) kToSlider(scored.length);
    sliderLabel.textContent =
      filter.mode === "circuit"
        ? `${edges.length} edges in the circuit (of ${current.edges.length})`
        : `${scored.length} of ${byMagnitude.length} edges, |score| ≥ ${formatNumber(t)}`;
    const key = layoutKey(edges, nodes);
    const cached = cache.get(key);
    if (cached) {
      draw(layoutFromElk(nodes, current.nLayers, withMlps, cached.x, edges));
      status.textContent = cached.note;
      return;
    }
    // Draw at once where nodes were (new ones in head order), then ask ELK.
    const fallback = provisionalLayout(nodes, current.nLayers, current.nHeads, withMlps);
    draw(
      lastX.size > 0
        ? placeOnRows(nodes, current.nLayers, withMlps, (n) => lastX.get(n.id) ?? fallback.x.get(n.id) ?? 0)
        : fallback,
    );
    window.clearTimeout(timer);
    status.textContent = "laying out…";
    timer = window.setTimeout(() => void runElk(key, nodes, edges), LAYOUT_DEBOUNCE_MS);
  }

  async function runElk(key: string, nodes: GraphNode[], edges: GraphEdge[]): Promise<void> {
    try {
      const request = elkRequest(nodes, edges, current.nLayers, withMlps);
      const result = await layouter.layout(request);
      const part = request.edges.length < edges.length ? ` (the ${request.edges.length} strongest of ${edges.length} edges)` : "";
      const note = `ELK layered: ${Math.round(result.ms)} ms${part}`;
      cache.set(key, { x: result.x, note });
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
      lastX = result.x;
      if (shown.edges === edges) {
        draw(layoutFromElk(nodes, current.nLayers, withMlps, result.x, edges));
        status.textContent = note;
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== "cancelled") status.textContent = `layout failed (${message}); rows in head order`;
    }
  }

  function edgePath(e: GraphEdge, layout: Layout): string {
    const sx = layout.x.get(e.source)!;
    const sy = layout.y.get(e.source)! - NODE_H / 2;
    const tx = layout.x.get(e.target)! + (nodeById.get(e.target)?.kind === "attention" ? inputOffset(e.input) : 0);
    const ty = layout.y.get(e.target)! + NODE_H / 2;
    const my = (sy + ty) / 2;
    return `M${sx.toFixed(1)},${sy.toFixed(1)}C${sx.toFixed(1)},${my.toFixed(1)} ${tx.toFixed(1)},${my.toFixed(1)} ${tx.toFixed(1)},${ty.toFixed(1)}`;
  }

  let lastLayout: Layout | null = null;
  // The zoom of small circuits follows the pane's width.
  let paneWidth = 0;
  const resize = new ResizeObserver(() => {
    // A hidden tab has no width: nothing to redraw until it shows again.
    if (scroller.clientWidth === 0 || scroller.clientWidth === paneWidth || !lastLayout) return;
    paneWidth = scroller.clientWidth;
    draw(lastLayout);
  });
  resize.observe(scroller);

  function draw(layout: Layout): void {
    lastLayout = layout;
    paneWidth = scroller.clientWidth;
    // Small circuits are drawn larger, up to the container's width; wide ones (SmolLM2's 30
    // layers of 9 heads) smaller, down to MIN_ZOOM, so that a whole row fits the pane.
    const w = Math.max(layout.width, 200);
    const h = Math.max(layout.height, 60);
    const fit = (availableWidth(scroller) - 4) / w;
    const zoom = fit < 1 ? Math.max(MIN_ZOOM, fit) : Math.max(1, Math.min(MAX_ZOOM, fit, ZOOM_HEIGHT / h));
    drawing.setAttribute("viewBox", `0 0 ${w.toFixed(1)} ${h.toFixed(1)}`);
    drawing.setAttribute("width", (w * zoom).toFixed(0));
    drawing.setAttribute("height", (h * zoom).toFixed(0));
    const edgeGroup = svg("g", { class: "cv-edges" });
    const nodeGroup = svg("g", { class: "cv-nodes" });
    nodeEls = new Map();
    edgeEls = new Map();
    // Weakest first, so the strong edges are drawn on top. One markup string: for thousands of
    // edges the parser is several times faster than creating each element.
    const hitPaths = shown.edges.length <= HIT_PATH_LIMIT;
    const order = [...shown.edges].sort((a, b) => Math.abs(a.score ?? Infinity) - Math.abs(b.score ?? Infinity));
    const parts: string[] = [];
    for (const e of order) {
      if (!layout.x.has(e.source) || !layout.x.has(e.target)) continue;
      const w = e.score === null ? 1 : Math.abs(e.score) / shown.maxAbs;
      const stroke = e.score === null ? SIGN_COLOURS.none : e.score >= 0 ? SIGN_COLOURS.positive : SIGN_COLOURS.negative;
      const width = (e.score === null ? 1.4 : 0.6 + 3.4 * w).toFixed(2);
      const opacity = (e.score === null ? 0.8 : 0.2 + 0.8 * w).toFixed(2);
      const d = edgePath(e, layout);
      const id = escapeAttribute(e.id);
      parts.push(`<path class="cv-edge${e.inCircuit ? " cv-in" : ""}" data-id="${id}" d="${d}" stroke="${stroke}" stroke-width="${width}" stroke-opacity="${opacity}"/>`);
      // A thin edge is hard to point at: a wide transparent twin takes the hover.
      if (hitPaths) parts.push(`<path class="cv-edge cv-edge-hit" data-id="${id}" d="${d}"/>`);
    }
    edgeGroup.innerHTML = parts.join("");
    for (const p of edgeGroup.children) {
      const id = (p as SVGPathElement).dataset.id;
      if (id && !p.classList.contains("cv-edge-hit")) edgeEls.set(id, p as SVGPathElement);
    }
    for (const n of shown.nodes) {
      const x = layout.x.get(n.id);
      const y = layout.y.get(n.id);
      if (x === undefined || y === undefined) continue;
      const wide = n.kind !== "attention";
      const w = wide ? NODE_W + 18 : NODE_W;
      const g = svg("g", { class: `cv-node cv-${n.kind}${n.inCircuit ? " cv-in" : ""}${n.id === selected ? " cv-selected" : ""}`, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` });
      g.dataset.id = n.id;
      g.append(svg("rect", { x: -w / 2, y: -NODE_H / 2, width: w, height: NODE_H, rx: 4 }));
      const label = svg("text", { "text-anchor": "middle", "dominant-baseline": "central" });
      label.textContent = n.label;
      g.append(label);
      nodeEls.set(n.id, g);
      nodeGroup.append(g);
    }
    drawing.replaceChildren(edgeGroup, nodeGroup);
  }

  function highlight(nodeId: string | null): void {
    drawing.classList.toggle("cv-focus", nodeId !== null);
    for (const p of drawing.querySelectorAll(".cv-lit")) p.classList.remove("cv-lit");
    if (nodeId === null) return;
    nodeEls.get(nodeId)?.classList.add("cv-lit");
    for (const e of shown.edges) {
      if (e.source !== nodeId && e.target !== nodeId) continue;
      edgeEls.get(e.id)?.classList.add("cv-lit");
      nodeEls.get(e.source === nodeId ? e.target : e.source)?.classList.add("cv-lit");
    }
  }

  function targetOf(event: Event): { node?: GraphNode; edge?: GraphEdge } {
    const t = event.target as Element | null;
    const g = t?.closest?.(".cv-node") as SVGGElement | null;
    if (g?.dataset.id) return { node: nodeById.get(g.dataset.id) };
    const p = t?.closest?.(".cv-edge") as SVGPathElement | null;
    if (p?.dataset.id) return { edge: shownById.get(p.dataset.id) };
    return {};
  }

  let hovered: string | null = null;
  drawing.addEventListener("mousemove", (event) => {
    const { node, edge } = targetOf(event);
    if (node) {
      if (hovered !== node.id) highlight((hovered = node.id));
      const degree = shown.edges.filter((e) => e.source === node.id || e.target === node.id).length;
      tooltip.show(event, [node.id, `score: ${formatNumber(node.score)}`, `${degree} visible edges${node.inCircuit ? ", in the circuit" : ""}`]);
    } else if (edge) {
      if (hovered !== null) highlight((hovered = null));
      tooltip.show(event, [edge.id, `score: ${formatNumber(edge.score)}`, edge.inCircuit ? "in the circuit" : "not in the circuit"]);
    } else {
      if (hovered !== null) highlight((hovered = null));
      tooltip.hide();
    }
  });
  drawing.addEventListener("mouseleave", () => {
    highlight((hovered = null));
    tooltip.hide();
  });
  drawing.addEventListener("click", (event) => {
    const { node, edge } = targetOf(event);
    if (node) {
      select(node.id);
      events.selectNode?.({ id: node.id, kind: node.kind, layer: node.layer, head: node.head });
    } else if (edge) {
      events.selectEdge?.(edge);
    }
  });
  // Dragging fires input events faster than a few thousand edges redraw: draw once per frame.
  let frame = 0;
  slider.addEventListener("input", () => {
    filter = userFilter = { mode: "top", k: sliderToK() };
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      refresh(true);
    });
  });
  modeSelect.addEventListener("change", () => {
    filter = userFilter = modeSelect.value === "circuit" ? { mode: "circuit" } : { mode: "top", k: Math.min(50, byMagnitude.length) };
    refresh();
  });

  function select(id: string | null): void {
    selected = id;
    for (const [nid, g] of nodeEls) g.classList.toggle("cv-selected", nid === id);
  }

  load(data);

  return {
    update(next: CircuitGraphData) {
      load(next);
    },
    setFilter(next: EdgeFilter) {
      filter = userFilter = next;
      refresh();
    },
    select,
    dispose() {
      resize.disconnect();
      window.clearTimeout(timer);
      cancelAnimationFrame(frame);
      layouter.dispose();
      root.remove();
    },
  };
}
