// The run's claims: one row each with PASS or FAIL, the claim, its bound and the measured value,
// and its place in the source (click to go there). Part of the webview's views.
import { formatNumber } from "./colour";
import { el } from "./dom";
import type { ClaimsData, ViewEvents, ViewHandle } from "./types";

function verdict(passed: boolean | null): HTMLElement {
  if (passed === null) return el("span", "cv-badge cv-unknown", "NOT RUN");
  return el("span", passed ? "cv-badge cv-pass" : "cv-badge cv-fail", passed ? "PASS" : "FAIL");
}

export function renderClaims(container: HTMLElement, data: ClaimsData, events: ViewEvents = {}): ViewHandle<ClaimsData> {
  const root = el("div", "cv-claims");
  container.append(root);

  function draw(next: ClaimsData): void {
    const failed = next.claims.filter((c) => c.passed === false).length;
    const summary =
      next.claims.length === 0
        ? "no claims"
        : `${next.claims.length - failed} of ${next.claims.length} claims pass`;
    const head = el("tr", "", ...["", "claim", "bound", "measured", "where"].map((h) => el("th", "", h)));
    const body = el("tbody");
    for (const c of next.claims) {
      const where = el("td", "cv-location", c.locationText);
      if (c.location && events.selectLocation) {
        where.classList.add("cv-clickable");
        where.title = "show in the editor";
        const location = c.location;
        where.addEventListener("click", () => events.selectLocation?.(location));
      }
      body.append(
        el(
          "tr",
          c.passed === false ? "cv-failed" : "",
          el("td", "", verdict(c.passed)),
          el("td", "cv-expression", c.expression),
          el("td", "cv-num", `${c.comparator} ${formatNumber(c.threshold)}`),
          el("td", "cv-num", formatNumber(c.measured)),
          where,
        ),
      );
    }
    root.replaceChildren(
      el("div", "cv-title", verdict(next.passed), " ", summary),
      el("table", "cv-table", el("thead", "", head), body),
    );
  }

  draw(data);
  return { update: draw, dispose: () => root.remove() };
}
