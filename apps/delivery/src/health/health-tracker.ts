import { Inject, Injectable, Logger } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import type { Subscription, SubscriptionHealth } from '@app/contracts';
import { SubscriptionRegistry } from '@app/subscriptions';

/**
 * The delivery side's record of each subscription's health, on the compacted health topic: when
 * its failure streak started, and whether the gateway disabled it (410 Gone, or failing for
 * longer than DELIVERY_AUTO_DISABLE_AFTER). It is the only writer of those records, and never
 * writes a subscription's configuration, so a rotation or PATCH the API confirmed cannot be
 * undone from here. Each record belongs to the configuration's health epoch it was written
 * under: a user's re-enable starts a new epoch, which voids it.
 */
@Injectable()
export class HealthTracker {
  private readonly logger = new Logger(HealthTracker.name);
  /** Subscriptions whose streak start is being written, so concurrent failures write it once. */
  private readonly starting = new Set<string>();
  private readonly autoDisableAfterMs: number;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly registry: SubscriptionRegistry,
  ) {
    this.autoDisableAfterMs = config.delivery.autoDisableAfterMs;
  }

  /** A delivery ends the failure streak. */
  async delivered(sub: Subscription): Promise<void> {
    const health = this.current(sub);
    if (health?.failingSince !== undefined && health.disabled === undefined) await this.registry.health.delete(sub.id);
  }

  /**
   * A failed attempt starts the streak, or extends it. Returns the reason when the streak has
   * lasted longer than DELIVERY_AUTO_DISABLE_AFTER: the subscription is then disabled.
   */
  async failed(sub: Subscription, now: Date): Promise<string | undefined> {
    const health = this.current(sub);
    if (health?.failingSince === undefined) {
      if (!this.starting.has(sub.id)) {
        this.starting.add(sub.id);
        await this.write(sub, { ...health, failingSince: now.toISOString() }).finally(() => this.starting.delete(sub.id));
      }
      return undefined;
    }
    const limit = this.autoDisableAfterMs;
    if (limit === 0 || now.getTime() - Date.parse(health.failingSince) < limit) return undefined;
    const reason = `every attempt failed since ${health.failingSince} (DELIVERY_AUTO_DISABLE_AFTER)`;
    await this.disable(sub, reason, now);
    return reason;
  }

  /** The gateway disables the subscription (until a user re-enables it). */
  async disable(sub: Subscription, reason: string, now: Date): Promise<void> {
    const health = this.current(sub);
    if (health?.disabled !== undefined) return;
    this.logger.warn({ msg: `subscription disabled: ${reason}`, subscriptionId: sub.id });
    await this.write(sub, { ...health, disabled: { reason, at: now.toISOString() } });
  }

  /** The health record of the subscription's current epoch, if any. */
  private current(sub: Subscription): SubscriptionHealth | undefined {
    const health = this.registry.health.get(sub.id);
    return health?.epoch === (sub.healthEpoch ?? 0) ? health : undefined;
  }

  private write(sub: Subscription, fields: Omit<SubscriptionHealth, 'epoch' | 'updatedAt'>): Promise<void> {
    return this.registry.health.put(sub.id, { failingSince: fields.failingSince, disabled: fields.disabled, epoch: sub.healthEpoch ?? 0, updatedAt: new Date().toISOString() });
  }
}
