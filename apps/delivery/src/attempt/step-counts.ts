/**
 * How many jobs are in each step of an attempt right now (waiting for the registry, the rate
 * limit, the endpoint's queue, the HTTP answer, a health write...), for the delivery watchdog's
 * log line: a stalled delivery app says where its jobs wait.
 */
export class StepCounts {
  private readonly counts = new Map<string, number>();

  /** `work` counts under `step` until it settles. */
  async during<T>(step: string, work: Promise<T>): Promise<T> {
    this.counts.set(step, (this.counts.get(step) ?? 0) + 1);
    try {
      return await work;
    } finally {
      this.counts.set(step, this.counts.get(step)! - 1);
    }
  }

  /** e.g. `http 3, endpoint queue 12`; steps with no job are left out. */
  describe(): string {
    const busy = [...this.counts].filter(([, n]) => n > 0).map(([step, n]) => `${step} ${n}`);
    return busy.length > 0 ? busy.join(', ') : 'no step';
  }
}
