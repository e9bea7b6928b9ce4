/** At most `limit` slots are held at once; the rest wait in arrival order. */
export class ConcurrencyLimit {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.active;
  }

  /**
   * True when a slot is held at once, else a promise that resolves once one is; give it back
   * with release(). The synchronous answer spares the caller a microtask per record.
   */
  acquire(): true | Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return true;
    }
    return new Promise<void>((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next waiter.
    if (next) next();
    else this.active--;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }
}
