import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { describeJsonataError } from '@app/contracts';
import { TransformError } from './transform.js';

export interface TransformLimits {
  /** Worker threads evaluating expressions (each runs one evaluation at a time). */
  workers: number;
  /** Longest evaluation; past it the evaluation fails (and a worker that does not yield is stopped). */
  timeoutMs: number;
  /** Largest result, as JSON bytes. */
  maxBytes: number;
}

/** What a worker answers for one evaluation. */
type Answer = { id: number; json?: string; error?: string };

interface Task {
  id: number;
  expression: string;
  inputJson: string;
  resolve: (json: string | undefined) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  task?: Task;
  timer?: NodeJS.Timeout;
}

/** Extra time the worker gets past JSONata's own timeout before it is stopped from outside. */
const HARD_STOP_GRACE_MS = 250;
/** JSONata's own guards inside an evaluation: call depth, and items in one sequence. */
const MAX_DEPTH = 500;
const MAX_SEQUENCE = 100_000;
/** Heap of one worker: an expression that builds huge values ends the worker, not the app. */
const WORKER_HEAP_MB = 128;

/**
 * Runs in each worker thread (serialised with toString, so it must not close over anything).
 * Compiles each expression once with JSONata's own time, depth and sequence guards and answers
 * with the result as JSON, checked against the size limit.
 */
function workerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const jsonata = require(workerData.jsonataPath) as typeof import('jsonata');
  const { timeoutMs, maxBytes, maxDepth, maxSequence } = workerData as { timeoutMs: number; maxBytes: number; maxDepth: number; maxSequence: number };
  const compiled = new Map<string, ReturnType<typeof jsonata>>();
  const describe = (err: unknown): string => {
    const e = err as { code?: string; message?: string; position?: number };
    return `${e.code ?? 'error'}${typeof e.position === 'number' ? ` at ${e.position}` : ''}: ${e.message ?? String(err)}`;
  };
  parentPort!.on('message', (task: { id: number; expression: string; inputJson: string }) => {
    void (async () => {
      try {
        let expression = compiled.get(task.expression);
        if (!expression) {
          if (compiled.size >= 1000) compiled.clear();
          expression = jsonata(task.expression, { timeout: timeoutMs, stack: maxDepth, sequence: maxSequence } as never);
          compiled.set(task.expression, expression);
        }
        const result: unknown = await expression.evaluate(JSON.parse(task.inputJson));
        if (result === undefined) return parentPort!.postMessage({ id: task.id });
        const json = JSON.stringify(result);
        if (json === undefined) return parentPort!.postMessage({ id: task.id, error: 'the result is not JSON (a function?)' });
        const bytes = Buffer.byteLength(json);
        if (bytes > maxBytes) return parentPort!.postMessage({ id: task.id, error: `the result is ${bytes} bytes, over the limit of ${maxBytes}` });
        parentPort!.postMessage({ id: task.id, json });
      } catch (err) {
        parentPort!.postMessage({ id: task.id, error: describe(err) });
      }
    })();
  });
}

/**
 * Evaluates JSONata transformations off the event loop: a small pool of worker threads, each
 * running one evaluation at a time. JSONata's own guards end a runaway evaluation that yields
 * (deep recursion, long loops, huge sequences); one that does not yield (a regular expression
 * that backtracks, a built-in on a huge value) is ended by stopping its worker, which is then
 * replaced. Either way the evaluation fails with the reason and the app carries on: a hostile
 * expression costs at most its time limit per event, never a stalled partition.
 */
export class TransformRunner {
  private readonly slots: (Slot | undefined)[];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;
  private readonly jsonataPath = createRequire(import.meta.url).resolve('jsonata');

  constructor(private readonly limits: TransformLimits) {
    this.slots = new Array<Slot | undefined>(Math.max(1, limits.workers)).fill(undefined);
  }

  /** The expression's result for the input, as JSON (undefined when it returned nothing); rejects with a TransformError. */
  evaluate(expression: string, inputJson: string): Promise<string | undefined> {
    if (this.closed) return Promise.reject(new TransformError('the transformation runner is stopped'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: ++this.nextId, expression, inputJson, resolve, reject });
      this.dispatch();
    });
  }

  /** Evaluations waiting for a worker, and running. */
  describe(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.slots.filter((s) => s?.task !== undefined).length };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new TransformError('the transformation runner is stopped'));
    await Promise.all(this.slots.map((_slot, i) => this.stop(i, new TransformError('the transformation runner is stopped'))));
  }

  private dispatch(): void {
    for (let i = 0; i < this.slots.length && this.queue.length > 0; i++) {
      const slot = (this.slots[i] ??= this.spawn(i));
      if (slot.task) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.timer = setTimeout(() => {
        void this.stop(i, new TransformError(`the evaluation did not finish within ${this.limits.timeoutMs} ms and was stopped`));
      }, this.limits.timeoutMs + HARD_STOP_GRACE_MS);
      slot.worker.postMessage({ id: task.id, expression: task.expression, inputJson: task.inputJson });
    }
  }

  private spawn(index: number): Slot {
    const worker = new Worker(`(${workerMain.toString()})()`, {
      eval: true,
      workerData: { jsonataPath: this.jsonataPath, timeoutMs: this.limits.timeoutMs, maxBytes: this.limits.maxBytes, maxDepth: MAX_DEPTH, maxSequence: MAX_SEQUENCE },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    worker.unref();
    const slot: Slot = { worker };
    worker.on('message', (answer: Answer) => {
      const task = slot.task;
      if (!task || task.id !== answer.id) return;
      this.release(slot);
      if (answer.error !== undefined) task.reject(new TransformError(answer.error));
      else task.resolve(answer.json);
      this.dispatch();
    });
    // Out of memory, or a crash: the evaluation running there fails, and the slot gets a new worker.
    worker.on('error', (err) => void this.stop(index, new TransformError(`the evaluation ended its worker: ${describeJsonataError(err)}`), slot));
    worker.on('exit', () => {
      if (this.slots[index] === slot) void this.stop(index, new TransformError('the evaluation ended its worker'), slot);
    });
    return slot;
  }

  private release(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.task = undefined;
    slot.timer = undefined;
  }

  /** Fails the slot's evaluation with `reason`, stops its worker and frees the slot for a new one. */
  private async stop(index: number, reason: TransformError, expected?: Slot): Promise<void> {
    const slot = this.slots[index];
    if (!slot || (expected && slot !== expected)) return;
    this.slots[index] = undefined;
    const task = slot.task;
    this.release(slot);
    task?.reject(reason);
    await slot.worker.terminate();
    if (!this.closed) this.dispatch();
  }
}
