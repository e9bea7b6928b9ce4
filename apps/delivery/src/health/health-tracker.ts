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
 *
 * A health write that fails (Kafka briefly unavailable) is logged and left: the attempt's outcome
 * is known and is not made again for it; the next attempt's outcome writes the record then.
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
    if (health?.failingSince !== undefined && health.disabled === undefined) await this.tryWrite(sub, 'end the failure streak', () => this.registry.health.delete(sub.id));
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
    return (await this.disable(sub, reason, now)) ? reason : undefined;
  }

  /** The gateway disables the subscription (until a user re-enables it); false when the write failed. */
  async disable(sub: Subscription, reason: string, now: Date): Promise<boolean> {
    const health = this.current(sub);
    if (health?.disabled !== undefined) return true;
    const written = await this.write(sub, { ...health, disabled: { reason, at: now.toISOString() } });
    if (written) this.logger.warn({ msg: `subscription disabled: ${reason}`, subscriptionId: sub.id });
    return written;
  }

  /** The health record of the subscription's current epoch, if any. */
  private current(sub: Subscription): SubscriptionHealth | undefined {
    const health = this.registry.health.get(sub.id);
    return health?.epoch === (sub.healthEpoch ?? 0) ? health : undefined;
  }

  private write(sub: Subscription, fields: Omit<SubscriptionHealth, 'epoch' | 'updatedAt'>): Promise<boolean> {
    const record: SubscriptionHealth = { failingSince: fields.failingSince, disabled: fields.disabled, epoch: sub.healthEpoch ?? 0, updatedAt: new Date().toISOString() };
    return this.tryWrite(sub, fields.disabled ? 'disable it' : 'record its failure streak', () => this.registry.health.put(sub.id, record));
  }

  private async tryWrite(sub: Subscription, what: string, write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      this.logger.warn({ msg: `could not write the health record to ${what}: ${(err as Error).message}; the next attempt writes it`, subscriptionId: sub.id });
      return false;
    }
  }
}
