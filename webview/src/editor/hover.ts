// Hover over a component in the editor (`head 9.6`, `mlp 3`, `resid 5 pre`) to see what it is
// in the served model: layer, head, sizes and its hook points with shapes (GET /api/model).
import { hoverTooltip, type Tooltip } from '@codemirror/view';
import type { ModelTree } from '../data/api_types';
import { COMPONENT_PATTERN, describeComponent, parseComponent } from '../model/component';
import { componentCard } from '../model/inspector';

export function componentHover(model: () => Promise<ModelTree | null>) {
  return hoverTooltip(async (view, pos): Promise<Tooltip | null> => {
    const line = view.state.doc.lineAt(pos);
    const column = pos - line.from;
    for (const m of line.text.matchAll(COMPONENT_PATTERN)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      if (column < start || column > end) continue;
      const ref = parseComponent(m[0].replace(/\s+/g, ' '));
      if (!ref) return null;
      let tree: ModelTree | null = null;
      try {
        tree = await model();
      } catch {
        return null;  // no model to describe it against: no tooltip rather than a wrong one
      }
      if (!tree) return null;
      const description = describeComponent(tree, ref);
      return {
        pos: line.from + start,
        end: line.from + end,
        above: true,
        create: () => ({ dom: componentCard(description, { compact: true }) }),
      };
    }
    return null;
  }, { hoverTime: 250 });
}
