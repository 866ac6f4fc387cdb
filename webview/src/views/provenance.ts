// Where a run's results come from: the model (name, family, shape, weights hash), the conditions,
// the tool and its version, the source file and its hash, the date and command, and a download
// of the interchange document. Part of the webview's views.
import { formatNumber } from "./colour";
import { el } from "./dom";
import type { ProvenanceData, ViewEvents, ViewHandle } from "./types";

function row(key: string, value: string | Node | null): HTMLElement | null {
  if (value === null || value === "") return null;
  return el("tr", "", el("th", "", key), el("td", "", value));
}

function hash(h: string | null): HTMLElement | null {
  if (!h) return null;
  const code = el("code", "cv-hash", h.slice(0, 16) + "…");
  code.title = h;
  return code;
}

export function renderProvenance(container: HTMLElement, data: ProvenanceData, _events: ViewEvents = {}): ViewHandle<ProvenanceData> {
  const root = el("div", "cv-provenance");
  container.append(root);
  let objectUrl: string | null = null;

  function draw(next: ProvenanceData): void {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    const shape = Object.entries(next.model.shape)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    const conditions = Object.entries(next.conditions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    const run = [
      next.seconds !== null ? `${formatNumber(next.seconds)} s` : "",
      next.forwards !== null ? `${next.forwards} forwards` : "",
      next.backwards !== null ? `${next.backwards} backwards` : "",
    ]
      .filter(Boolean)
      .join(", ");
    const rows = [
      row("circuit", next.circuitName),
      row("model", `${next.model.name} (${next.model.family})`),
      row("shape", shape),
      row("weights sha256", hash(next.model.weightsSha256)),
      row("conditions", conditions),
      row("task", next.task),
      row("metric", next.metric),
      row("source", next.sourcePath),
      row("source sha256", hash(next.sourceSha256)),
      row("tool", `${next.tool} ${next.toolVersion}`),
      row("date", next.date),
      row("command", next.command ? el("code", "", next.command) : null),
      row("run", run),
    ].filter((r): r is HTMLElement => r !== null);
    const children: HTMLElement[] = [el("div", "cv-title", "provenance"), el("table", "cv-table cv-keyvalue", el("tbody", "", ...rows))];
    if (next.download) {
      const link = el("a", "cv-button", "download the interchange document (JSON)");
      if ("url" in next.download) link.href = next.download.url;
      else link.href = objectUrl = URL.createObjectURL(next.download.blob);
      link.download = next.downloadName;
      children.push(link);
    }
    root.replaceChildren(...children);
  }

  draw(data);
  return {
    update: draw,
    dispose() {
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      root.remove();
    },
  };
}
