import { randomBytes } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { idempotentProducer, PRODUCER_RETRY, sendRecords } from '@app/kafka';
import { API_TOKEN } from './gateway.js';
import type { Ledger } from './accounting.js';
import type { Receiver } from './receiver.js';

export const LOAD_EVENT_TYPE = 'load.event';

/**
 * Publishes source events at a steady rate, each owed to every subscription of the run
 * (the fan-out), and tells the ledger what each is owed. The publisher is
 * idempotent and retries without limit, so a broker outage delays events but loses none.
 */
export class LoadGenerator {
  private producer: Producer;
  private readonly run = randomBytes(3).toString('hex');
  private stopped = false;
  private done?: Promise<void>;
  private sent = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly ledger: Ledger,
    private readonly subscriptionIds: () => readonly string[],
    private readonly options: { perSecond: number; keys?: number; padBytes?: number },
  ) {
    this.producer = this.create();
  }

  private create(): Producer {
    return idempotentProducer(this.kafka, { ...PRODUCER_RETRY, maxRetryTime: 2_000 });
  }

  get published(): number {
    return this.sent;
  }

  async start(): Promise<this> {
    await this.producer.connect();
    this.done = this.loop();
    return this;
  }

  /** Publishes `count` events at once (a backlog), then resolves. */
  async burst(count: number): Promise<void> {
    await this.publish(count);
  }

  /** Stops publishing; resolves when the last send was acknowledged. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.done;
    await this.producer.disconnect();
  }

  private async loop(): Promise<void> {
    const tickMs = 100;
    const started = Date.now();
    while (!this.stopped) {
      const due = Math.floor(((Date.now() - started) / 1000) * this.options.perSecond) - this.sent;
      if (due > 0) await this.publish(due);
      await new Promise((r) => setTimeout(r, tickMs));
    }
  }

  /** Connects the new producer, trying again every second while no broker answers (the whole cluster restarting). */
  private async connectWhileDown(): Promise<void> {
    for (;;) {
      try {
        return await this.producer.connect();
      } catch (err) {
        if (!worthRetrying(err)) throw err;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async publish(count: number): Promise<void> {
    const pad = 'x'.repeat(this.options.padBytes ?? 64);
    const keys = this.options.keys ?? 64;
    const events = Array.from({ length: count }, (_, i) => {
      const n = this.sent + i;
      return { id: `ev-${this.run}-${n}`, type: LOAD_EVENT_TYPE, data: { eid: `ev-${this.run}-${n}`, n, pad } };
    });
    this.sent += count;
    // Owed before they are sent: a webhook may arrive before the acknowledgement does. A send
    // does not fail (it retries without limit); if it threw, the run fails with it.
    const subscriptions = this.subscriptionIds();
    for (const e of events) this.ledger.expect(e.id, subscriptions);
    const records = events.map((e) => ({ topic: this.topic, key: `k${e.data.n % keys}`, value: e }));
    for (;;) {
      try {
        // sendRecords checks that every partition answered (kafkajs can drop one on a leader change).
        await sendRecords(this.producer, records);
        return;
      } catch (err) {
        // kafkajs' idempotent producer does not recover from OUT_OF_ORDER_SEQUENCE_NUMBER after a
        // broker failover (tulios/kafkajs#598). Like any publishing service, the generator starts a
        // new producer and sends again: some of these events may then be in the source twice.
        this.ledger.republished(events.map((e) => e.id));
        const old = this.producer;
        this.producer = this.create();
        await old.disconnect().catch(() => undefined);
        await this.connectWhileDown();
        if (!worthRetrying(err)) throw err;
      }
    }
  }
}

/**
 * A send or connect that may succeed later: a retriable error, a producer out of step
 * (OUT_OF_ORDER_SEQUENCE_NUMBER), or one given up after kafkajs' own retries because no broker
 * answered (a KafkaJSNonRetriableError whose cause is a connection error, as while the whole
 * cluster restarts).
 */
function worthRetrying(err: unknown): boolean {
  type Failure = { retriable?: boolean; type?: string; name?: string; cause?: unknown } | undefined;
  for (let e = err as Failure; e; e = e.cause === e ? undefined : (e.cause as Failure)) {
    if (e.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER' || e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError') return true;
  }
  return (err as Failure)?.retriable !== false;
}

/** Creates one subscription to the load events per receiver, at path `/s/<i>` of the i-th; returns path → id. */
export async function loadSubscriptions(apiUrl: string, receivers: readonly Receiver[], extra: Record<string, unknown> = {}): Promise<Map<string, string>> {
  const byPath = new Map<string, string>();
  for (const [i, receiver] of receivers.entries()) {
    const path = `/s/${i}`;
    const res = await fetch(`${apiUrl}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url(path), events: [LOAD_EVENT_TYPE], retry: { schedule: [1, 1, 5, 5, 5] }, ...extra }),
    });
    if (res.status !== 201) throw new Error(`creating a subscription: ${res.status} ${await res.text()}`);
    byPath.set(path, ((await res.json()) as { id: string }).id);
  }
  return byPath;
}
