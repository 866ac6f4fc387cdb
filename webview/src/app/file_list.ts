// The workspace's .circuit files; clicking one opens it in the editor. A dot marks unsaved edits.
import { clear, h } from './dom';
import type { FileEntry } from '../data/api_types';

export class FileList {
  readonly element: HTMLElement;
  private readonly list = h('ul', { class: 'file-list', role: 'listbox', 'aria-label': 'files' });
  private files: FileEntry[] = [];
  private current: string | null = null;
  private readonly dirty = new Set<string>();

  constructor(private readonly onOpen: (path: string) => void) {
    this.element = h('section', { class: 'panel files-panel' }, h('h2', {}, 'Files'), this.list);
    this.list.addEventListener('click', (e) => {
      const item = (e.target as Element).closest<HTMLElement>('[data-path]');
      if (item) this.onOpen(item.dataset.path!);
    });
  }

  setFiles(files: FileEntry[]): void {
    this.files = [...files].sort((a, b) => a.path.localeCompare(b.path));
    this.render();
  }

  setCurrent(path: string | null): void {
    this.current = path;
    this.render();
  }

  setDirty(path: string, dirty: boolean): void {
    if (dirty === this.dirty.has(path)) return;
    if (dirty) this.dirty.add(path);
    else this.dirty.delete(path);
    this.render();
  }

  private render(): void {
    clear(this.list);
    if (this.files.length === 0) this.list.append(h('li', { class: 'muted' }, 'no .circuit files'));
    for (const f of this.files) {
      const slash = f.path.lastIndexOf('/');
      this.list.append(h('li', {
        class: f.path === this.current ? 'file selected' : 'file', 'data-path': f.path, role: 'option',
        'aria-selected': f.path === this.current ? 'true' : 'false', title: f.path,
      },
      h('span', { class: 'file-name' }, f.path.slice(slash + 1)),
      slash > 0 ? h('span', { class: 'muted file-dir' }, ` ${f.path.slice(0, slash)}`) : null,
      this.dirty.has(f.path) ? h('span', { class: 'dirty' }, ' ●') : null));
    }
  }
}
