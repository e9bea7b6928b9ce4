import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Every management API call needs `Authorization: Bearer <one of API_TOKENS>`. */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly tokens: Buffer[];

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.tokens = config.api.tokens.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match?.[1]) throw new UnauthorizedException('missing bearer token (Authorization: Bearer <token>)');
    const presented = digest(match[1]);
    // Compare digests in constant time, against every token.
    const valid = this.tokens.reduce((ok, t) => timingSafeEqual(t, presented) || ok, false);
    if (!valid) throw new UnauthorizedException('invalid bearer token');
    return true;
  }
}
