interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/**
 * In-flight attempts per endpoint (origin), at most `cap` each. An attempt that
 * finds its endpoint full waits in process up to `maxWaitMs` for a slot (slots go
 * to waiters in arrival order), so a busy but fast endpoint keeps its jobs here;
 * past that the caller moves the job aside (a retry tier), so a slow endpoint
 * holds up nothing else for long.
 */
export class EndpointSlots {
  private readonly load = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(
    private readonly cap: number,
    private readonly maxWaitMs: number,
  ) {}

  /** True once a slot is held (give it back with release), false when none freed up in time. */
  acquire(endpoint: string): Promise<boolean> | boolean {
    const load = this.load.get(endpoint) ?? 0;
    if (load < this.cap) {
      this.load.set(endpoint, load + 1);
      return true;
    }
    if (this.maxWaitMs <= 0) return false;
    return new Promise<boolean>((resolve) => {
      const queue = this.waiting.get(endpoint) ?? [];
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve(true);
        },
        timer: setTimeout(() => {
          const left = (this.waiting.get(endpoint) ?? []).filter((w) => w !== waiter);
          if (left.length > 0) this.waiting.set(endpoint, left);
          else this.waiting.delete(endpoint);
          resolve(false);
        }, this.maxWaitMs),
      };
      queue.push(waiter);
      this.waiting.set(endpoint, queue);
    });
  }

  release(endpoint: string): void {
    const queue = this.waiting.get(endpoint);
    const next = queue?.shift();
    if (queue?.length === 0) this.waiting.delete(endpoint);
    // The slot passes straight to the next waiter.
    if (next) return next.grant();
    const left = (this.load.get(endpoint) ?? 1) - 1;
    if (left <= 0) this.load.delete(endpoint);
    else this.load.set(endpoint, left);
  }

  inFlight(endpoint: string): number {
    return this.load.get(endpoint) ?? 0;
  }
}
