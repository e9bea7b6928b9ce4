import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createWriteStream, type WriteStream } from 'node:fs';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';

/**
 * Diagnostics for latency per hop (HOP_LOG, off by default): each app appends one JSON line per
 * source batch (the producer app: read, subscriptions caught up, jobs sent, committed) or per
 * job (the delivery app: read, outcome written) to `<HOP_LOG>.<pid>.jsonl`, with
 * `Date.now()` times. `bench/compare/hops.mjs` joins them with the times Kafka keeps in the
 * records (CreateTime of the source event, the job and the result; the attempt's startedAt and
 * finishedAt) into one breakdown per hop. Off, `enabled` is false and nothing is written.
 */
@Injectable()
export class HopLog implements OnApplicationShutdown {
  private readonly out?: WriteStream;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    if (!config.tracing.hopLog) return;
    this.out = createWriteStream(`${config.tracing.hopLog}.${process.pid}.jsonl`, { flags: 'a' });
  }

  get enabled(): boolean {
    return this.out !== undefined;
  }

  /** One line: a kind (`batch`, `fan-out`, `job`) and its fields. */
  write(kind: string, fields: Record<string, string | number | undefined>): void {
    this.out?.write(`${JSON.stringify({ kind, ...fields })}\n`);
  }

  onApplicationShutdown(): Promise<void> {
    const out = this.out;
    if (!out) return Promise.resolve();
    return new Promise((resolve) => out.end(resolve));
  }
}
