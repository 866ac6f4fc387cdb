// The card that says what a model component is (title, summary, facts, hook points with
// shapes): shown by the model tree's inspector and in the editor's hover tooltip.
import { h } from '../app/dom';
import type { ComponentDescription } from './component';
import { shapeText } from './component';

export function componentCard(d: ComponentDescription, options: { compact?: boolean } = {}): HTMLElement {
  const card = h('div', { class: options.compact ? 'component-card compact' : 'component-card' },
    h('div', { class: 'card-title' }, d.title),
    h('div', { class: 'card-summary' }, d.summary));
  if (d.error) card.append(h('div', { class: 'card-error' }, d.error));
  if (d.facts.length) {
    const facts = h('dl', { class: 'card-facts' });
    for (const [k, v] of d.facts) facts.append(h('dt', {}, k), h('dd', {}, v));
    card.append(facts);
  }
  if (d.hookPoints.length) {
    const shown = options.compact ? d.hookPoints.slice(0, 8) : d.hookPoints;
    const table = h('table', { class: 'hook-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'hook point'), h('th', {}, 'shape'))));
    const body = h('tbody');
    for (const p of shown) body.append(h('tr', {}, h('td', { class: 'mono' }, p.name), h('td', { class: 'mono' }, shapeText(p.shape))));
    table.append(body);
    card.append(table);
    if (shown.length < d.hookPoints.length) card.append(h('div', { class: 'muted' }, `… ${d.hookPoints.length - shown.length} more in the model tree`));
  }
  return card;
}
