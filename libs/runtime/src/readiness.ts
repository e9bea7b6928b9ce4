import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/** A readiness check: undefined when fine, else why not. */
export type ReadinessCheck = () => string | undefined;

/**
 * What /readyz reports. The pieces that must be working for the app to do its
 * work register a check (Kafka consumers joined, registry caught up, producer
 * connected); the app turns not-ready as soon as shutdown begins, then drains
 * its consumers (in-flight work finished and committed) before the HTTP server
 * closes, so a load balancer or orchestrator sees it going.
 */
@Injectable()
export class Readiness implements BeforeApplicationShutdown {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly notes = new Map<string, ReadinessCheck>();
  private readonly drains: (() => Promise<void>)[] = [];
  private shuttingDown = false;
  private consuming = false;

  constructor() {
    this.register('kafka-consumer', () => (this.consuming ? undefined : 'the Kafka consumer has not joined its group'));
  }

  /** `note`: something an operator should see while the check still passes (e.g. a token refresh that keeps failing). */
  register(name: string, check: ReadinessCheck, note?: ReadinessCheck): void {
    this.checks.set(name, check);
    if (note) this.notes.set(name, note);
  }

  /** The note of a passing check, if it has one now. */
  note(name: string): string | undefined {
    return this.notes.get(name)?.();
  }

  markConsuming(value: boolean): void {
    this.consuming = value;
  }

  /** Work to finish at shutdown while /readyz already answers 503 and the HTTP server still runs. */
  drainAtShutdown(drain: () => Promise<void>): void {
    this.drains.push(drain);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(this.drains.map((drain) => drain()));
  }

  /** Each check's verdict (name → problem, or undefined when fine). */
  verdicts(): [string, string | undefined][] {
    const all: [string, string | undefined][] = [...this.checks].map(([name, check]) => [name, check()]);
    all.push(['lifecycle', this.shuttingDown ? 'shutting down' : undefined]);
    return all;
  }

  /** Reasons the app is not ready; empty when it is. */
  problems(): string[] {
    return this.verdicts().flatMap(([name, problem]) => (problem === undefined ? [] : [`${name}: ${problem}`]));
  }
}
