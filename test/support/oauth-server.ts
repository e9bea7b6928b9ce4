import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the token endpoint misbehaves for one request. */
export type TokenFailure = 'status_503' | 'not_json' | 'no_access_token' | 'hang';

export interface TokenRequest {
  at: number;
  clientId?: string;
  /** How the client authenticated: HTTP Basic or in the form body. */
  clientAuth?: 'basic' | 'body';
  grantType?: string;
  scope?: string;
  audience?: string;
  status: number;
}

/**
 * A real OAuth2 authorization server's token endpoint on 127.0.0.1 (POST /token, the
 * client-credentials grant of RFC 6749 §4.4): it checks the grant type and the client's
 * credentials (HTTP Basic or in the body), issues random opaque tokens that live `expiresIn`
 * seconds, can revoke every token issued so far, can be made to fail, and counts requests.
 * `isValid(token)` is what a resource server would ask it (introspection).
 */
export class OAuthServer {
  readonly requests: TokenRequest[] = [];
  /** Seconds each new token lives, per client (default 3600); undefined: the answer has no expires_in (the token lives an hour). */
  readonly expiresIn = new Map<string, number | undefined>();
  /** Failures for the next requests, in order. */
  readonly failures: TokenFailure[] = [];
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();
  private readonly hanging = new Set<ServerResponse>();
  private server?: Server;

  /** `clients`: client id → client secret. */
  constructor(private readonly clients: Record<string, string>) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.answer(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/token`;
  }

  /** Token requests of one client. */
  of(clientId: string): TokenRequest[] {
    return this.requests.filter((r) => r.clientId === clientId);
  }

  /** Every token issued so far (to look for in logs and topics). */
  issued(): string[] {
    return [...this.tokens.keys()];
  }

  /** Issued to this client, not revoked and not expired. */
  isValid(token: string | undefined): boolean {
    const t = token === undefined ? undefined : this.tokens.get(token);
    return t !== undefined && Date.now() < t.expiresAt;
  }

  /** Every token issued so far stops being valid (they stay known to `issued`). */
  revokeAll(): void {
    for (const t of this.tokens.values()) t.expiresAt = 0;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(req: IncomingMessage, text: string, res: ServerResponse): void {
    const form = new URLSearchParams(text);
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    let clientId: string | undefined;
    let secret: string | undefined;
    if (basic) {
      const [id, pass] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent((id ?? '').replace(/\+/g, ' '));
      secret = decodeURIComponent((pass ?? '').replace(/\+/g, ' '));
    } else {
      clientId = form.get('client_id') ?? undefined;
      secret = form.get('client_secret') ?? undefined;
    }
    const record: TokenRequest = {
      at: Date.now(),
      clientId,
      clientAuth: basic ? 'basic' : form.has('client_id') ? 'body' : undefined,
      grantType: form.get('grant_type') ?? undefined,
      scope: form.get('scope') ?? undefined,
      audience: form.get('audience') ?? undefined,
      status: 200,
    };
    this.requests.push(record);
    const reply = (status: number, body: string, type = 'application/json') => {
      record.status = status;
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'POST' || req.url !== '/token') return reply(404, '{"error":"not_found"}');
    const failure = this.failures.shift();
    if (failure === 'hang') {
      record.status = 0;
      this.hanging.add(res);
      return;
    }
    if (failure === 'status_503') return reply(503, 'unavailable', 'text/plain');
    if (failure === 'not_json') return reply(200, '<html>sign in</html>', 'text/html');
    if (failure === 'no_access_token') return reply(200, '{"token_type":"Bearer"}');
    if (record.grantType !== 'client_credentials') return reply(400, '{"error":"unsupported_grant_type"}');
    if (clientId === undefined || this.clients[clientId] === undefined || this.clients[clientId] !== secret) {
      return reply(401, '{"error":"invalid_client","error_description":"client authentication failed"}');
    }
    const token = randomBytes(24).toString('base64url');
    const expiresIn = this.expiresIn.has(clientId) ? this.expiresIn.get(clientId) : 3600;
    this.tokens.set(token, { clientId, expiresAt: Date.now() + (expiresIn ?? 3600) * 1000 });
    reply(200, JSON.stringify({ access_token: token, token_type: 'Bearer', ...(expiresIn !== undefined && { expires_in: expiresIn }) }));
  }
}
