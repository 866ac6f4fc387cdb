// A bounded cache of decoded tensors (most recently used kept), shared by both data sources so
// that switching heads or tabs does not fetch or decode a tensor twice.
import type { Tensor } from './api_types';

export class TensorCache {
  private readonly entries = new Map<string, Promise<Tensor>>();
  private bytes = 0;
  private readonly sizes = new Map<string, number>();

  constructor(private readonly maxBytes: number) {}

  get(key: string, load: () => Promise<Tensor>): Promise<Tensor> {
    const hit = this.entries.get(key);
    if (hit) {  // refresh its place in the recency order
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const pending = load().then(
      (t) => {
        this.sizes.set(key, t.data.byteLength);
        this.bytes += t.data.byteLength;
        this.evict(key);
        return t;
      },
      (err: unknown) => {
        this.entries.delete(key);  // a failed fetch is retried next time
        throw err;
      },
    );
    this.entries.set(key, pending);
    return pending;
  }

  clear(prefix = ''): void {
    for (const key of [...this.entries.keys()]) {
      if (!key.startsWith(prefix)) continue;
      this.entries.delete(key);
      this.bytes -= this.sizes.get(key) ?? 0;
      this.sizes.delete(key);
    }
  }

  private evict(keep: string): void {
    for (const key of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      if (key === keep || !this.sizes.has(key)) continue;
      this.entries.delete(key);
      this.bytes -= this.sizes.get(key) ?? 0;
      this.sizes.delete(key);
    }
  }
}
