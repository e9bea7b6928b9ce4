import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, type GatewayTopics } from '@app/config';
import {
  activeSecrets,
  type CreatedSubscriptionView,
  type CreateSubscriptionDto,
  type EndpointAuth,
  type EndpointAuthBody,
  type EndpointAuthView,
  describeCertificate,
  type GatewayEvent,
  type ListSubscriptionsQueryDto,
  type RotatedSecretView,
  type RotateSecretDto,
  type Subscription,
  type SubscriptionPage,
  type SubscriptionView,
  type TestDeliveryView,
  type TransformTestDto,
  type TransformTestView,
  type UpdateSubscriptionDto,
} from '@app/contracts';
import { TransformError, Transformer, transformInput, withPath } from '@app/body';
import { KafkaProducer } from '@app/kafka';
import { generateSecret } from '@app/signing';
import { SubscriptionRegistry, SubscriptionStore } from '@app/subscriptions';
import { fanOut } from '../fan-out/fan-out.js';
import { type Caller, canSee, tenantOf } from './api-token.guard.js';

export const newSubscriptionId = () => `sub_${randomBytes(12).toString('base64url')}`;
const DEFAULT_PAGE_SIZE = 100;
export const TEST_EVENT_TYPE = 'webhook.test';

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
    disabled_reason: sub.disabledReason,
    failing_since: sub.failingSince,
    tenant: sub.tenant,
    format: sub.format,
    retry: sub.retry,
    timeout_ms: sub.timeoutMs,
    rate_limit: sub.rateLimit && { per_second: sub.rateLimit.perSecond },
    ordering: sub.ordering ?? 'none',
    transform: sub.transform,
    auth: sub.auth && authView(sub.auth),
    tls: sub.tls && { client_certificate: describeCertificate(sub.tls.cert)!, ca: sub.tls.ca !== undefined },
    created_at: sub.createdAt,
    updated_at: sub.updatedAt,
  };
}

/** `auth` as the API shows it: its type and who, never the password, token or client secret. */
function authView(auth: EndpointAuth): EndpointAuthView {
  switch (auth.type) {
    case 'basic':
      return { type: 'basic', username: auth.username };
    case 'bearer':
      return { type: 'bearer' };
    case 'oauth2':
      return { type: 'oauth2', token_url: auth.tokenUrl, client_id: auth.clientId, scope: auth.scope, audience: auth.audience, client_auth: auth.clientAuth };
  }
}

/** A validated `auth` body as the subscription holds it (a PATCH replaces the whole of it). */
function authOf(body: EndpointAuthBody): EndpointAuth {
  if ('token_url' in body) {
    const { token_url: tokenUrl, client_id: clientId, client_secret: clientSecret, scope, audience, client_auth: clientAuth } = body;
    return { type: 'oauth2', tokenUrl, clientId, clientSecret, ...(scope !== undefined && { scope }), ...(audience !== undefined && { audience }), clientAuth: clientAuth ?? 'basic' };
  }
  return 'token' in body ? { type: 'bearer', token: body.token } : { type: 'basic', username: body.username, password: body.password };
}

/** `auth` sets the Authorization header: a static one beside it would be ambiguous. */
function assertOneAuthorization(sub: Subscription): Subscription {
  if (sub.auth && Object.keys(sub.headers).some((h) => h.toLowerCase() === 'authorization'))
    throw new BadRequestException('headers.Authorization cannot be combined with auth: auth sets the Authorization header');
  if (sub.tls && !sub.url.toLowerCase().startsWith('https:')) throw new BadRequestException('tls needs an https:// url: a client certificate is presented in a TLS handshake');
  return sub;
}

/** Applies the fields a create or update body carries: undefined keeps, null clears. */
function applyFields(sub: Subscription, dto: UpdateSubscriptionDto): Subscription {
  const keep = <T>(value: T | null | undefined, current: T | undefined): T | undefined => (value === undefined ? current : (value ?? undefined));
  return {
    ...sub,
    url: dto.url ?? sub.url,
    events: dto.events ? [...new Set(dto.events)] : sub.events,
    kind: dto.kind ?? sub.kind,
    filters: dto.filters === undefined ? sub.filters : (dto.filters ?? {}),
    headers: dto.headers === undefined ? sub.headers : (dto.headers ?? {}),
    description: keep(dto.description, sub.description),
    enabled: dto.enabled ?? sub.enabled,
    // Re-enabling clears what the gateway recorded (disabled, failure streak): a new health epoch
    // makes the delivery side's record of the old one void. Nothing else clears it.
    disabledReason: dto.enabled === true ? undefined : sub.disabledReason,
    healthEpoch: dto.enabled === true ? (sub.healthEpoch ?? 0) + 1 : sub.healthEpoch,
    tenant: keep(dto.tenant, sub.tenant),
    format: dto.format ?? sub.format,
    retry: dto.retry === undefined ? sub.retry : dto.retry ? { schedule: dto.retry.schedule } : undefined,
    timeoutMs: keep(dto.timeout_ms, sub.timeoutMs),
    rateLimit: dto.rate_limit === undefined ? sub.rateLimit : dto.rate_limit ? { perSecond: dto.rate_limit.per_second } : undefined,
    ordering: dto.ordering === undefined ? sub.ordering : dto.ordering === 'key' ? 'key' : undefined,
    transform: dto.transform === undefined ? sub.transform : dto.transform ? { expression: dto.transform.expression, output: dto.transform.output ?? 'body' } : undefined,
    auth: dto.auth === undefined ? sub.auth : dto.auth ? authOf(dto.auth) : undefined,
    tls: dto.tls === undefined ? sub.tls : dto.tls ? { cert: dto.tls.client_certificate, key: dto.tls.client_key, ca: dto.tls.ca } : undefined,
  };
}

const encodeCursor = (sub: Subscription) => Buffer.from(JSON.stringify([sub.createdAt, sub.id])).toString('base64url');
function decodeCursor(cursor: string): [string, string] | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string') ? (v as [string, string]) : null;
  } catch {
    return null;
  }
}

/** Subscription use cases; reads come from the registry, writes go through the store. */
@Injectable()
export class SubscriptionsService {
  private readonly deliveriesTopic: string;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) topics: GatewayTopics,
    private readonly registry: SubscriptionRegistry,
    private readonly store: SubscriptionStore,
    private readonly producer: KafkaProducer,
    private readonly transformer: Transformer,
  ) {
    this.deliveriesTopic = topics.deliveries;
  }

  /** Creates the subscription; the secret is returned here and on rotation, never again. */
  async create(dto: CreateSubscriptionDto, caller: Caller = {}): Promise<CreatedSubscriptionView> {
    dto = { ...dto, tenant: tenantOf(caller, dto.tenant) };
    const now = new Date().toISOString();
    const secret = dto.secret ?? generateSecret();
    const blank: Subscription = {
      id: newSubscriptionId(),
      url: dto.url,
      events: [],
      kind: 'STANDARD',
      filters: {},
      secrets: [{ secret }],
      headers: {},
      enabled: true,
      format: 'standard',
      createdAt: now,
      updatedAt: now,
    };
    const sub = assertOneAuthorization(applyFields(blank, dto));
    await this.store.put(sub);
    return { ...toView(sub), secret };
  }

  list(query: ListSubscriptionsQueryDto, caller: Caller = {}): SubscriptionPage {
    query = { ...query, tenant: tenantOf(caller, query.tenant) };
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && after === null) throw new BadRequestException('cursor is not a cursor this API returned');
    const enabled = query.enabled === undefined ? undefined : query.enabled === 'true';
    const matching = this.registry
      .all()
      .filter((s) => (query.tenant === undefined || s.tenant === query.tenant) && (enabled === undefined || s.enabled === enabled))
      .filter((s) => after === null || s.createdAt > after[0] || (s.createdAt === after[0] && s.id > after[1]))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const page = matching.slice(0, limit);
    const last = page.at(-1);
    return { data: page.map(toView), next_cursor: matching.length > limit && last ? encodeCursor(last) : undefined };
  }

  get(id: string, caller: Caller = {}): SubscriptionView {
    return toView(this.find(id, caller));
  }

  async update(id: string, dto: UpdateSubscriptionDto, caller: Caller = {}): Promise<SubscriptionView> {
    const current = this.configOf(this.find(id, caller));
    // A tenant token may not move a subscription out of its tenant (null would clear it).
    if (caller.tenant !== undefined && dto.tenant !== undefined) tenantOf(caller, dto.tenant ?? '');
    await this.store.put({ ...assertOneAuthorization(applyFields(current, dto)), updatedAt: new Date().toISOString() });
    return toView(this.find(id, caller));
  }

  async delete(id: string, caller: Caller = {}): Promise<void> {
    this.find(id, caller);
    await this.store.delete(id);
  }

  /**
   * A new secret signs from now on; the previous one keeps signing alongside it
   * for the rotation window, so receivers can switch without losing a webhook.
   */
  async rotateSecret(id: string, dto: RotateSecretDto, caller: Caller = {}): Promise<RotatedSecretView> {
    const sub = this.configOf(this.find(id, caller));
    const now = new Date();
    const ttl = dto.old_secret_ttl_seconds ?? this.config.subscriptions.rotationWindowSeconds;
    const expiresAt = new Date(now.getTime() + ttl * 1000).toISOString();
    const secret = dto.secret ?? generateSecret();
    const previous = sub.secrets
      .filter((s) => activeSecrets([s], now).length > 0)
      .map((s) => ({ secret: s.secret, expiresAt: s.expiresAt !== undefined && s.expiresAt < expiresAt ? s.expiresAt : expiresAt }));
    await this.store.put({ ...sub, secrets: [{ secret }, ...previous], updatedAt: now.toISOString() });
    return { id, secret, previous_secret_expires_at: previous.length > 0 ? expiresAt : undefined };
  }

  /** Sends a `webhook.test` event to this subscription through the normal delivery path. */
  async sendTest(id: string, caller: Caller = {}): Promise<TestDeliveryView> {
    const sub = this.find(id, caller);
    const now = new Date();
    const event: GatewayEvent = {
      id: `test_${randomUUID()}`,
      type: TEST_EVENT_TYPE,
      source: 'webhook-gateway',
      time: now.toISOString(),
      tenant: sub.tenant,
      data: { message: 'A test webhook sent from the management API.', subscription_id: sub.id },
      cloudevent: false,
    };
    const [job] = fanOut(event, [sub], { topic: 'api', partition: -1, offset: '-1' }, now);
    if (!job) throw new Error('no job for the test event');
    await this.producer.send([{ topic: this.deliveriesTopic, key: job.subscriptionId, value: job }]);
    return { webhook_id: job.webhookId, event_id: event.id };
  }

  /**
   * A dry run of a transformation (the subscription's, or one given to try) on a sample event:
   * what would be sent, exactly as the delivery app would make it, or why it fails.
   */
  async testTransform(id: string, dto: TransformTestDto, caller: Caller = {}): Promise<TransformTestView> {
    const sub = this.find(id, caller);
    const transform = dto.transform ? { expression: dto.transform.expression, output: dto.transform.output ?? 'body' } : sub.transform;
    if (!transform) throw new BadRequestException(['transform: the subscription has no transformation; pass one to try']);
    const sample = dto.event ?? {};
    const event: GatewayEvent = {
      id: 'evt_sample',
      type: sub.events.find((e) => !e.includes('*')) ?? TEST_EVENT_TYPE,
      source: 'webhook-gateway',
      time: new Date().toISOString(),
      tenant: sub.tenant,
      data: {},
      ...(sample as Partial<GatewayEvent>),
      cloudevent: false,
    };
    try {
      const request = await this.transformer.apply(transform, JSON.stringify(transformInput(event)));
      if (request.skip) return { ok: true, skip: true };
      return { ok: true, skip: false, url: withPath(sub.url, request.path), headers: request.headers, body: request.body };
    } catch (err) {
      if (err instanceof TransformError) return { ok: false, error: { class: 'transform', message: err.message } };
      throw err;
    }
  }

  /** The configuration behind a subscription the caller may see (what an API write starts from: health is not the API's to write). */
  private configOf(sub: Subscription): Subscription {
    return this.store.config(sub.id) ?? sub;
  }

  /** The subscription, if the caller may see it: another tenant's is "not found", like a missing one (nothing leaks). */
  find(id: string, caller: Caller = {}): Subscription {
    const sub = this.registry.get(id);
    if (!sub || !canSee(caller, sub)) throw new NotFoundException(`subscription ${id} not found`);
    return sub;
  }
}
