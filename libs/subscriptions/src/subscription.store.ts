import { Injectable } from '@nestjs/common';
import type { Subscription } from '@app/contracts';
import { SubscriptionRegistry } from './subscription-registry.js';

/**
 * The management API's writes of subscription configurations (secrets sealed by the registry's
 * codec). Each returns once this instance's registry has applied it, so the caller reads its own
 * writes. Health (failing since, disabled by the gateway) is the delivery side's record, never
 * written here.
 */
@Injectable()
export class SubscriptionStore {
  constructor(private readonly registry: SubscriptionRegistry) {}

  /** The configuration as the API last wrote it (without health): the base of an update. */
  config(id: string): Subscription | undefined {
    return this.registry.configs.get(id);
  }

  put(subscription: Subscription): Promise<void> {
    return this.registry.configs.put(subscription.id, subscription);
  }

  /** A tombstone: compaction forgets the subscription. Its health record is left to the delivery side. */
  delete(id: string): Promise<void> {
    return this.registry.configs.delete(id);
  }
}
