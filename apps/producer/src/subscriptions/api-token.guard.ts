import { CanActivate, createParamDecorator, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import type { Subscription } from '@app/contracts';
import { PortalSessionSigner } from '../portal/portal-session-token.js';
import { PortalSessionsService } from '../portal/portal-sessions.service.js';

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Who is calling: an operator token (every tenant), or a token of one tenant (API_TENANT_TOKENS or a portal session). */
export interface Caller {
  tenant?: string;
  /** Set for a customer-portal session (which acts for its tenant, like a tenant token). */
  portalSession?: { id: string; readOnly: boolean; /** ISO 8601, from the token's claims. */ expiresAt: string };
}

type CallerRequest = Request & { gatewayCaller?: Caller };

/**
 * Every management API call needs `Authorization: Bearer <token>`: one of
 * API_TOKENS (every tenant), of API_TENANT_TOKENS (that tenant only), or a portal
 * session token (its tenant only; a read-only session may only GET). The caller is
 * handed to the handler with `@ApiCaller()`.
 */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly tokens: { digest: Buffer; caller: Caller }[];

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly portal: PortalSessionsService,
  ) {
    this.tokens = [
      ...config.api.tokens.map((t) => ({ digest: digest(t), caller: {} })),
      ...config.api.tenantTokens.map((t) => ({ digest: digest(t.token), caller: { tenant: t.tenant } })),
    ];
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<CallerRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw new UnauthorizedException('missing bearer token (Authorization: Bearer <token>)');
    if (PortalSessionSigner.looksLike(match[1])) {
      const caller = this.portal.authenticate(match[1]);
      if (caller.portalSession.readOnly && request.method !== 'GET' && request.method !== 'HEAD') throw new ForbiddenException('this portal session is read-only');
      request.gatewayCaller = caller;
      return true;
    }
    const presented = digest(match[1]);
    // Compare digests in constant time, against every token.
    const found = this.tokens.reduce<Caller | undefined>((caller, t) => (timingSafeEqual(t.digest, presented) ? t.caller : caller), undefined);
    if (!found) throw new UnauthorizedException('invalid bearer token');
    request.gatewayCaller = found;
    return true;
  }
}

/** The caller the ApiTokenGuard let in. */
export const ApiCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => context.switchToHttp().getRequest<CallerRequest>().gatewayCaller ?? {});

/**
 * The tenant a request acts for: a tenant token's own (asking for another is 403),
 * or what an operator token asked for (undefined: every tenant).
 */
export function tenantOf(caller: Caller, requested: string | null | undefined, field = 'tenant'): string | undefined {
  if (caller.tenant === undefined) return requested ?? undefined;
  if (requested !== undefined && requested !== caller.tenant) throw new ForbiddenException(`${field}: this token acts for tenant ${caller.tenant} only`);
  return caller.tenant;
}

/** For endpoints only an operator token (API_TOKENS) may call: 403 for tenant tokens and portal sessions. */
export function operatorOnly(caller: Caller): void {
  if (caller.tenant !== undefined) throw new ForbiddenException('this endpoint needs an operator token (API_TOKENS)');
}

/** Whether the caller may see the subscription (a tenant token: its own tenant's only). */
export const canSee = (caller: Caller, sub: Pick<Subscription, 'tenant'>): boolean => caller.tenant === undefined || sub.tenant === caller.tenant;
