// Runs ELK's layered layout off the main thread: elk-api talks to a Web Worker made from
// elkjs's worker script (inlined as text, started from a Blob URL so that the self-contained
// report works from file:// too). A new request cancels the one in flight. Part of the views.
import ELK from "elkjs/lib/elk-api.js";
import workerSource from "elkjs/lib/elk-worker.min.js?raw";
import type { ElkRequest } from "./graph_layout";

type Elk = InstanceType<typeof ELK>;

export interface ElkResult {
  x: Map<string, number>; // node centres
  ms: number;
}

export class ElkLayouter {
  private elk: Elk | null = null;
  private url: string | null = null;
  private generation = 0;

  private failure: ((reason: Error) => void) | null = null;

  private start(): Elk {
    if (!this.url) this.url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
    const url = this.url;
    return new ELK({
      workerFactory: () => {
        const worker = new Worker(url);
        // elk-api never hears of a worker that failed to load or threw: reject the request.
        worker.addEventListener("error", (event) => this.failure?.(new Error(event.message || "the layout worker failed")));
        return worker;
      },
    });
  }

  /** Lays `graph` out; rejects with "cancelled" when a later request overtakes it. */
  async layout(graph: ElkRequest): Promise<ElkResult> {
    const generation = ++this.generation;
    if (this.elk && this.busy) {
      // ELK cannot be interrupted: drop the worker that is busy with an outdated graph.
      this.elk.terminateWorker();
      this.elk = null;
    }
    this.elk ??= this.start();
    const started = performance.now();
    this.busy = true;
    try {
      const failed = new Promise<never>((_, reject) => (this.failure = reject));
      const out = await Promise.race([this.elk.layout(graph), failed]);
      if (generation !== this.generation) throw new Error("cancelled");
      const x = new Map<string, number>();
      for (const c of out.children ?? []) x.set(c.id, (c.x ?? 0) + (c.width ?? 0) / 2);
      return { x, ms: performance.now() - started };
    } finally {
      if (generation === this.generation) this.busy = false;
    }
  }

  private busy = false;

  dispose(): void {
    this.generation++;
    this.elk?.terminateWorker();
    this.elk = null;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }
}
