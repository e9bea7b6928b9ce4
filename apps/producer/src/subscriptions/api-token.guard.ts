import { CanActivate, createParamDecorator, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import type { Subscription } from '@app/contracts';

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Who is calling: an operator token (every tenant), or a token of one tenant (API_TENANT_TOKENS). */
export interface Caller {
  tenant?: string;
}

type CallerRequest = Request & { gatewayCaller?: Caller };

/**
 * Every management API call needs `Authorization: Bearer <token>`: one of
 * API_TOKENS (every tenant) or of API_TENANT_TOKENS (that tenant only). The
 * caller is handed to the handler with `@ApiCaller()`.
 */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly tokens: { digest: Buffer; caller: Caller }[];

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.tokens = [
      ...config.api.tokens.map((t) => ({ digest: digest(t), caller: {} })),
      ...config.api.tenantTokens.map((t) => ({ digest: digest(t.token), caller: { tenant: t.tenant } })),
    ];
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<CallerRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw new UnauthorizedException('missing bearer token (Authorization: Bearer <token>)');
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

/** Whether the caller may see the subscription (a tenant token: its own tenant's only). */
export const canSee = (caller: Caller, sub: Pick<Subscription, 'tenant'>): boolean => caller.tenant === undefined || sub.tenant === caller.tenant;
