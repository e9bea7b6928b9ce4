import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayTopics } from '@app/config';
import type { Subscription } from '@app/contracts';
import { KafkaProducer } from '@app/kafka';
import { SecretBox } from './secret-box.js';
import { encodeSubscription } from './subscription.codec.js';
import { SubscriptionRegistry } from './subscription-registry.js';

/**
 * Writes subscriptions to the compacted topic and returns once this instance's
 * registry has applied the write, so the caller reads its own writes.
 */
@Injectable()
export class SubscriptionStore {
  private readonly box: SecretBox;
  private readonly topic: string;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly producer: KafkaProducer,
    private readonly registry: SubscriptionRegistry,
  ) {
    this.box = new SecretBox(config.subscriptions.secretsKey);
    this.topic = gatewayTopics(config).subscriptions;
  }

  put(subscription: Subscription): Promise<void> {
    return this.write(subscription.id, encodeSubscription(subscription, this.box));
  }

  /** A tombstone: compaction forgets the subscription. */
  delete(id: string): Promise<void> {
    return this.write(id, null);
  }

  private async write(id: string, value: unknown): Promise<void> {
    const [meta] = await this.producer.send([{ topic: this.topic, key: id, value }]);
    if (!meta?.baseOffset) throw new Error('the subscription write was not acknowledged');
    await this.registry.waitFor(meta.partition, BigInt(meta.baseOffset));
  }
}
