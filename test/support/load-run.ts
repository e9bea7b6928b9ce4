import { type Kafka, logLevel } from 'kafkajs';
import { gatewayTopics, loadConfig } from '@app/config';
import type { AttemptResult, DeadLetter, DeliveryJob } from '@app/contracts';
import { type AccountingReport, Ledger, publishReport } from './accounting.js';
import { testKafka, TopicReader } from './kafka.js';
import { LoadGenerator, loadSubscriptions } from './load.js';
import { Receiver } from './receiver.js';
import type { AppProcess } from './app-process.js';

const IN_FLIGHT_SAMPLE_MS = 200;

/**
 * A delivery process's jobs in flight in the at-least-once sense: read and handed out past their
 * partition's committed offset, finished or not (webhook_gateway_uncommitted_records), 0 when the
 * process does not answer (killed, stopping).
 */
async function inFlightOf(app: AppProcess): Promise<number> {
  try {
    const res = await fetch(`${app.url}/metrics`, { signal: AbortSignal.timeout(1_000) });
    const match = /^webhook_gateway_uncommitted_records\{[^}]*\} (\d+)/m.exec(await res.text());
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export interface LoadRunOptions {
  subscriptions: number;
  perSecond: number;
  /** Receiver answer delay per request, so attempts are in flight when a fault hits. */
  receiverDelayMs?: number;
}

/**
 * One accounted load run against a gateway configured by `env`: one receiver on 127.0.0.1
 * per subscription (each its own origin, path `/s/<i>`), the load generator, and readers of the dead-letter and
 * deliveries topics feeding the ledger. `finish` waits until every pair is accounted for,
 * stops the gateway (its in-flight work drains), reads the deliveries topic to its end and
 * publishes the report.
 */
export class LoadRun {
  /** One receiver (one origin) per subscription, like a fleet of subscribers. */
  readonly receivers: Receiver[];
  readonly ledger: Ledger;
  readonly kafka: Kafka;
  private readonly bySubscriptionPath = new Map<string, string>();
  private readonly dlq: TopicReader;
  private readonly jobs: TopicReader;
  private readonly results: TopicReader;
  private load?: LoadGenerator;
  private closed = false;
  private sampler?: NodeJS.Timeout;
  private static readonly open = new Set<LoadRun>();

  /** Closes every run not finished (a test that failed half-way). */
  static async closeAll(): Promise<void> {
    await Promise.all([...LoadRun.open].map((r) => r.close()));
  }

  constructor(
    readonly scenario: string,
    readonly env: Record<string, string>,
    private readonly options: LoadRunOptions,
  ) {
    const config = loadConfig(env);
    // Fault runs make the test's own clients retry a lot: their errors are expected, the accounting is what counts.
    this.kafka = testKafka(config.kafka.brokers, logLevel.NOTHING);
    const topics = gatewayTopics(config);
    this.source = config.source.topics[0]!;
    this.ledger = new Ledger(scenario, (path) => this.bySubscriptionPath.get(path));
    this.receivers = Array.from({ length: options.subscriptions }, () => new Receiver(false));
    for (const receiver of this.receivers) receiver.tap((r) => this.ledger.receive(r));
    this.dlq = new TopicReader(this.kafka, topics.dlq, (r) => this.ledger.deadLetter(r.value as DeadLetter));
    this.jobs = new TopicReader(this.kafka, topics.deliveries, (r) => this.ledger.job(r.value as DeliveryJob, `${r.partition}@${r.offset}`));
    this.results = new TopicReader(this.kafka, topics.results, (r) => this.ledger.result(r.value as AttemptResult));
  }

  private readonly source: string;

  /** Starts the receivers (before the gateway, so their URLs can be subscribed). */
  async prepare(): Promise<void> {
    LoadRun.open.add(this);
    await Promise.all(this.receivers.map((r) => r.start()));
    this.receivers.forEach((r, i) => r.behave(`/s/${i}`, { delayMs: this.options.receiverDelayMs ?? 0 }));
  }

  /** Subscribes through the gateway's API and starts the load. */
  async begin(apiUrl: string): Promise<void> {
    for (const [path, id] of await loadSubscriptions(apiUrl, this.receivers)) this.bySubscriptionPath.set(path, id);
    await Promise.all([this.dlq.start(), this.jobs.start(), this.results.start()]);
    const ids = [...this.bySubscriptionPath.values()];
    this.load = await new LoadGenerator(this.kafka, this.source, this.ledger, () => ids, { perSecond: this.options.perSecond }).start();
    this.ledger.mark('load started');
  }

  /**
   * Samples the jobs in flight in `deliveryApps` (read and not yet committed: their /metrics gauge, summed) every
   * IN_FLIGHT_SAMPLE_MS until the run finishes: the ledger bounds the duplicates of each fault by them.
   */
  watchInFlight(deliveryApps: AppProcess[]): void {
    const sample = async () => {
      const at = Date.now();
      const counts = await Promise.all(deliveryApps.filter((a) => a.running).map((a) => inFlightOf(a)));
      this.ledger.inFlight(at, counts.reduce((sum, n) => sum + n, 0));
    };
    this.sampler = setInterval(() => void sample(), IN_FLIGHT_SAMPLE_MS);
  }

  /** Resolves once `count` events have been published. */
  async untilPublished(count: number): Promise<void> {
    while ((this.load?.published ?? 0) < count) await new Promise((r) => setTimeout(r, 50));
  }

  /** Stops the load, waits until every pair is received or dead-lettered, stops the gateway and reports. */
  async finish(stopGateway: () => Promise<void>, timeoutMs = 180_000): Promise<AccountingReport> {
    await this.load?.stop();
    this.ledger.mark('load stopped');
    const deadline = Date.now() + timeoutMs;
    while (this.ledger.outstanding > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    this.ledger.mark('everything accounted for');
    clearInterval(this.sampler);
    await stopGateway();
    await this.jobs.waitCaughtUp();
    await this.dlq.waitCaughtUp();
    await this.results.waitCaughtUp();
    const report = this.ledger.report();
    publishReport(report);
    await this.close();
    return report;
  }

  /** Stops the load, the readers and the receivers (also after a failure half-way). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sampler);
    LoadRun.open.delete(this);
    await Promise.allSettled([this.load?.stop(), this.dlq.stop(), this.jobs.stop(), this.results.stop(), ...this.receivers.map((r) => r.stop())]);
  }

}
