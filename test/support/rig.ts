import { gatewayTopics, type GatewayTopics } from '@app/config';
import type { GatewayConfig } from '@app/config';
import { Gateway, testConfig } from './gateway.js';
import { EventPublisher, testKafka, TopicReader } from './kafka.js';
import { Receiver } from './receiver.js';

type ReadableTopic = 'results' | 'dlq' | 'invalid' | 'deliveries';

/**
 * What most e2e files need: a configuration of their own, both gateway apps, real
 * receivers on 127.0.0.1, an event publisher and readers of the gateway's topics.
 * `start()` in beforeAll, `stop()` in afterAll.
 */
export class GatewayRig {
  readonly config: GatewayConfig;
  readonly topics: GatewayTopics;
  /** The source topic events are published to. */
  readonly source: string;
  readonly gateway: Gateway;
  readonly receivers: Receiver[];
  readonly publisher: EventPublisher;
  private readonly readers = new Map<ReadableTopic, TopicReader>();

  constructor(name: string, env: Record<string, string> = {}, options: { receivers?: number; read?: ReadableTopic[] } = {}) {
    this.config = testConfig(name, env);
    this.topics = gatewayTopics(this.config);
    this.source = this.config.source.topics[0]!;
    const kafka = testKafka();
    this.gateway = new Gateway(this.config);
    this.receivers = Array.from({ length: options.receivers ?? 1 }, () => new Receiver());
    this.publisher = new EventPublisher(kafka);
    for (const topic of options.read ?? ['results']) this.readers.set(topic, new TopicReader(kafka, this.topics[topic]));
  }

  get receiver(): Receiver {
    return this.receivers[0]!;
  }

  reader(topic: ReadableTopic): TopicReader {
    const reader = this.readers.get(topic);
    if (!reader) throw new Error(`the rig does not read ${topic}: pass it in options.read`);
    return reader;
  }

  async start(): Promise<void> {
    await Promise.all(this.receivers.map((r) => r.start()));
    await this.gateway.start();
    await Promise.all([this.publisher.connect(), ...[...this.readers.values()].map((r) => r.start())]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.publisher.disconnect(), ...[...this.readers.values()].map((r) => r.stop())]);
    await this.gateway.stop();
    await Promise.all(this.receivers.map((r) => r.stop()));
  }
}
