import { Inject, Injectable, NotFoundException, OnApplicationShutdown, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, gatewayGroupPrefixes, type GatewayTopics } from '@app/config';
import { type CreatePortalSessionDto, PORTAL_SESSION_DEFAULT_SECONDS, PORTAL_SESSION_MAX_SECONDS, type PortalSessionView } from '@app/contracts';
import { CompactedTopicStore, KAFKA_CLIENT, KafkaProducer, KafkaTopics } from '@app/kafka';
import { PortalSessionSigner, PortalTokenError } from './portal-session-token.js';

/** The value of a record on the portal-sessions topic (key: the session id). */
export interface PortalRevocation {
  revokedAt: string;
  expiresAt: string;
}

/** Who a portal session token lets in: its tenant, and whether it may only read. */
export interface PortalSessionCaller {
  tenant: string;
  portalSession: { id: string; readOnly: boolean; expiresAt: string };
}

/**
 * Customer-portal sessions: signed tokens acting for one tenant until they expire (nothing is
 * stored when one is made). Revocations are records on the compacted portal-sessions topic that
 * every producer instance keeps in memory, so a session revoked on one instance is refused on all.
 * A revocation stays on the topic after its session has expired (compaction keeps one per id).
 */
@Injectable()
export class PortalSessionsService implements OnModuleInit, OnApplicationShutdown {
  private readonly signer: PortalSessionSigner;
  private readonly revoked: CompactedTopicStore<PortalRevocation>;
  private readonly baseUrl: string;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) topics: GatewayTopics,
    producer: KafkaProducer,
    private readonly kafkaTopics: KafkaTopics,
  ) {
    this.signer = new PortalSessionSigner(config.subscriptions.secretsKey);
    this.baseUrl = (config.api.portalBaseUrl || `http://127.0.0.1:${config.api.port}`).replace(/\/+$/, '');
    this.revoked = new CompactedTopicStore<PortalRevocation>({
      kafka,
      topic: topics.portalSessions,
      groupPrefix: gatewayGroupPrefixes(config).portalSessions,
      name: 'the revoked portal sessions',
      decode: (value) => JSON.parse(value.toString('utf8')) as PortalRevocation,
      writer: producer,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.kafkaTopics.ensure();
    await this.revoked.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.revoked.stop();
  }

  create(dto: CreatePortalSessionDto, nowMs = Date.now()): PortalSessionView {
    const id = `ps_${randomBytes(12).toString('base64url')}`;
    const exp = Math.floor(nowMs / 1000) + (dto.expires_in ?? PORTAL_SESSION_DEFAULT_SECONDS);
    const readOnly = dto.read_only === true;
    const token = this.signer.sign({ id, tenant: dto.tenant, readOnly, exp });
    return { id, tenant: dto.tenant, read_only: readOnly, expires_at: new Date(exp * 1000).toISOString(), token, url: `${this.baseUrl}/portal#session=${token}` };
  }

  /**
   * Revokes a session by id; resolves once this instance has read the revocation back. Only the
   * token knows its expiry: `expiresAt` is the latest any session made until now can expire.
   */
  async revoke(id: string, nowMs = Date.now()): Promise<void> {
    if (!/^ps_[A-Za-z0-9_-]{1,64}$/.test(id)) throw new NotFoundException(`portal session ${id} not found`);
    await this.revoked.put(id, { revokedAt: new Date(nowMs).toISOString(), expiresAt: new Date(nowMs + PORTAL_SESSION_MAX_SECONDS * 1000).toISOString() });
  }

  /** The caller a portal session token stands for; 401 when it is not ours, expired or revoked. */
  authenticate(token: string): PortalSessionCaller {
    let claims;
    try {
      claims = this.signer.verify(token);
    } catch (err) {
      if (err instanceof PortalTokenError) throw new UnauthorizedException(err.message);
      throw err;
    }
    if (this.revoked.has(claims.id)) throw new UnauthorizedException('portal session revoked');
    return { tenant: claims.tenant, portalSession: { id: claims.id, readOnly: claims.readOnly, expiresAt: new Date(claims.exp * 1000).toISOString() } };
  }
}
