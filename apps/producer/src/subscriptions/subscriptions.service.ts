import { Injectable, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { CreateSubscriptionDto, Subscription, SubscriptionView } from '@app/contracts';
import { generateSecret } from '@app/signing';
import { SubscriptionRegistry, SubscriptionStore } from '@app/subscriptions';

export const newSubscriptionId = () => `sub_${randomBytes(12).toString('base64url')}`;

export function toView(sub: Subscription): SubscriptionView {
  return {
    id: sub.id,
    url: sub.url,
    events: sub.events,
    kind: sub.kind,
    filters: sub.filters,
    headers: sub.headers,
    description: sub.description,
    enabled: sub.enabled,
    tenant: sub.tenant,
    format: sub.format,
    retry: sub.retry,
    timeout_ms: sub.timeoutMs,
    rate_limit: sub.rateLimit && { per_second: sub.rateLimit.perSecond },
    created_at: sub.createdAt,
    updated_at: sub.updatedAt,
  };
}

/** Subscription use cases; reads come from the registry, writes go through the store. */
@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly store: SubscriptionStore,
  ) {}

  /** Creates the subscription; the secret is returned here and never again. */
  async create(dto: CreateSubscriptionDto): Promise<SubscriptionView & { secret: string }> {
    const now = new Date().toISOString();
    const secret = dto.secret ?? generateSecret();
    const sub: Subscription = {
      id: newSubscriptionId(),
      url: dto.url,
      events: [...new Set(dto.events)],
      kind: dto.kind ?? 'STANDARD',
      filters: dto.filters ?? {},
      secrets: [secret],
      headers: dto.headers ?? {},
      description: dto.description,
      enabled: dto.enabled ?? true,
      tenant: dto.tenant,
      format: dto.format ?? 'standard',
      retry: dto.retry && { schedule: dto.retry.schedule },
      timeoutMs: dto.timeout_ms,
      rateLimit: dto.rate_limit && { perSecond: dto.rate_limit.per_second },
      createdAt: now,
      updatedAt: now,
    };
    await this.store.put(sub);
    return { ...toView(sub), secret };
  }

  list(): SubscriptionView[] {
    return this.registry
      .all()
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map(toView);
  }

  get(id: string): SubscriptionView {
    return toView(this.find(id));
  }

  async delete(id: string): Promise<void> {
    this.find(id);
    await this.store.delete(id);
  }

  private find(id: string): Subscription {
    const sub = this.registry.get(id);
    if (!sub) throw new NotFoundException(`subscription ${id} not found`);
    return sub;
  }
}
