import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { isIP } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import { CLIENT_CERT_AGENT_IDLE_MS, MAX_CLIENT_CERT_AGENTS, MAX_RESPONSE_DRAIN_BYTES, USER_AGENT } from '../delivery-policy.js';
import { ClientCertAgents } from './client-cert-agents.js';
import { type ClientTls, egressConnector, ProxyError, proxyName } from './egress-connector.js';
import { guardedLookup, refusedMessage, TargetGuard, TargetRefusedError } from './target-guard.js';

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Bytes of the response body kept (default DELIVERY_RESPONSE_BODY_BYTES): more for an OAuth2 token answer. */
  responseBodyBytes?: number;
  /** Mutual TLS: the subscription's client certificate (its id keys the connection pool made for it). */
  tls?: { subscriptionId: string } & ClientTls;
}

/** What one HTTP attempt came to: a value, never an exception. */
export type HttpAttempt =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; body: string; durationMs: number }
  | { kind: 'error'; errorClass: HttpErrorClass; message: string; durationMs: number };

export type HttpErrorClass =
  | 'timeout'
  | 'connect_timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'target_refused'
  | 'tls'
  | 'proxy'
  | 'network';

/**
 * The one HTTP client of the delivery app (undici): keep-alive pools per origin
 * with a connection cap, a connect timeout and a total timeout per attempt,
 * no redirects, the response body read up to a small cap, and the SSRF guard
 * applied to the address each connection is made to. Connections are made by
 * `egressConnector` (through DELIVERY_PROXY_URL when set); a subscription with a client
 * certificate gets a pool of its own (`ClientCertAgents`).
 */
@Injectable()
export class HttpSender implements OnApplicationShutdown {
  private readonly agent: Agent;
  private readonly clientCertAgents: ClientCertAgents;
  private readonly guard: TargetGuard;
  private readonly config: GatewayConfig['delivery'];
  private readonly targets = new Map<string, Target>();

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.config = config.delivery;
    this.guard = new TargetGuard(config.delivery.targetAllowlist);
    this.agent = this.newAgent();
    this.clientCertAgents = new ClientCertAgents((tls) => this.newAgent(tls), MAX_CLIENT_CERT_AGENTS, CLIENT_CERT_AGENT_IDLE_MS);
    if (this.config.proxyUrl) new Logger(HttpSender.name).log(`webhooks go through the egress proxy ${proxyName(this.config.proxyUrl)} (DELIVERY_PROXY_URL)`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.agent.close(), this.clientCertAgents.close()]);
  }

  /** A pool per origin whose connections are made by the egress connector (with a client certificate, for `tls`). */
  private newAgent(tls?: ClientTls): Agent {
    return new Agent({
      connections: this.config.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: this.config.timeoutMs,
      bodyTimeout: this.config.timeoutMs,
      connect: egressConnector({ lookup: guardedLookup(this.guard), timeoutMs: this.config.connectTimeoutMs, proxy: this.config.proxyUrl, tls }),
    });
  }

  /**
   * One POST through undici's dispatcher with a small handler of our own: the response body is
   * collected up to the cap straight from the parser, without a stream per attempt (undici's
   * `request()` builds a Readable, an abort listener and an async iterator for each, a large part
   * of the delivery app's CPU at thousands of attempts per second).
   */
  send(req: HttpRequest): Promise<HttpAttempt> {
    const target = this.target(req.url);
    if (target.refusal !== null) return Promise.resolve({ kind: 'error', errorClass: 'target_refused', message: target.refusal, durationMs: 0 });
    return new Promise((resolve) => {
      const handler = new AttemptHandler(resolve, req.responseBodyBytes ?? this.config.responseBodyBytes, req.timeoutMs);
      const dispatcher = req.tls === undefined ? this.agent : this.clientCertAgents.get(req.tls.subscriptionId, req.tls);
      dispatcher.dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: 'POST',
          headers: withUserAgent(req.headers),
          body: req.body,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        handler,
      );
    });
  }

  /** Where a URL is posted to, or why it is refused; parsed once per URL. */
  target(url: string): Target {
    let target = this.targets.get(url);
    if (target === undefined) {
      if (this.targets.size >= MAX_CACHED_TARGETS) this.targets.clear();
      this.targets.set(url, (target = this.parseTarget(url)));
    }
    return target;
  }

  /** Refuses a URL before any connection: scheme, HTTPS-only, and IP literals (no lookup happens for those). */
  private parseTarget(raw: string): Target {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { origin: raw, path: '/', refusal: 'invalid URL' };
    }
    const refused = (refusal: string): Target => ({ origin: url.origin, path: '/', refusal });
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return refused(`unsupported scheme ${url.protocol}`);
    if (this.config.requireHttps && url.protocol !== 'https:') return refused('http:// targets are refused (DELIVERY_REQUIRE_HTTPS)');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !this.guard.allowsAddress(host)) return refused(refusedMessage(host, [host]));
    return { origin: url.origin, path: url.pathname + url.search, refusal: null };
  }
}

/** The attempt's own headers object (built for this attempt) gets the gateway's user-agent unless it names one. */
function withUserAgent(headers: Record<string, string>): Record<string, string> {
  if (headers['user-agent'] === undefined) headers['user-agent'] = USER_AGENT;
  return headers;
}

/** Where an attempt is posted, or why its URL is refused. */
export interface Target {
  origin: string;
  path: string;
  refusal: string | null;
}

/** Distinct URLs parsed and kept (a bound, not a working-set size: the cache starts over when full). */
const MAX_CACHED_TARGETS = 100_000;

/** Set by the attempt's own timer: the total time allowed (DELIVERY_TIMEOUT_MS or the subscription's) ran out. */
class AttemptTimeout extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * One attempt's response: the status, headers and the first `cap` bytes of the body. A body
 * longer than `cap` + MAX_RESPONSE_DRAIN_BYTES ends the connection instead of being read on. A
 * timer bounds the whole attempt; it resolves as a timeout even while the request still waits
 * for a connection (undici aborts it when its turn comes).
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  private controller?: Dispatcher.DispatchController;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private total = 0;
  private done = false;
  private timedOut = false;

  constructor(
    private readonly resolve: (attempt: HttpAttempt) => void,
    private readonly cap: number,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => this.timeout(), timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.timedOut) controller.abort(new AttemptTimeout());
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.keptBytes < this.cap) {
      const part = chunk.length <= this.cap - this.keptBytes ? chunk : chunk.subarray(0, this.cap - this.keptBytes);
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    this.total += chunk.length;
    // Enough read to answer; the rest is not worth the connection. The attempt ends with what was kept.
    if (this.total > this.cap + MAX_RESPONSE_DRAIN_BYTES) {
      this.finishResponse();
      controller.abort(new Error('response body over the drain limit'));
    }
  }

  onResponseEnd(): void {
    this.finishResponse();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.finish({ kind: 'error', ...classifyError(err, this.timedOut), durationMs: this.elapsed() });
  }

  private timeout(): void {
    this.timedOut = true;
    if (this.controller) this.controller.abort(new AttemptTimeout());
    else this.finish({ kind: 'error', ...classifyError(new AttemptTimeout(), true), durationMs: this.elapsed() });
  }

  private finishResponse(): void {
    const body = this.kept.length === 0 ? '' : this.kept.length === 1 ? this.kept[0]!.toString('utf8') : Buffer.concat(this.kept).toString('utf8');
    this.finish({ kind: 'response', status: this.status, headers: this.headers, body, durationMs: this.elapsed() });
  }

  private finish(attempt: HttpAttempt): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.resolve(attempt);
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.started);
  }
}

function classifyError(err: unknown, timedOut: boolean): { errorClass: HttpErrorClass; message: string } {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const message = e.message ?? String(err);
  if (err instanceof TargetRefusedError || e.cause instanceof TargetRefusedError) return { errorClass: 'target_refused', message: (e.cause as Error | undefined)?.message ?? message };
  if (err instanceof ProxyError || e.cause instanceof ProxyError) return { errorClass: 'proxy', message: (e.cause as Error | undefined)?.message ?? message };
  // A TLS alert after the handshake (TLS 1.3: the server refuses the client certificate then) reaches undici as a socket error.
  if (isTlsCode(e.cause?.code ?? '')) return { errorClass: 'tls', message: e.cause?.message ?? message };
  if (timedOut || e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return { errorClass: 'timeout', message: 'no complete response within the timeout' };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { errorClass: 'connect_timeout', message };
  if (code === 'ECONNREFUSED') return { errorClass: 'connection_refused', message };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return { errorClass: 'connection_reset', message };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return { errorClass: 'dns', message };
  if (isTlsCode(code)) return { errorClass: 'tls', message };
  return { errorClass: 'network', message: code ? `${code}: ${message}` : message };
}

const isTlsCode = (code: string): boolean =>
  code.startsWith('ERR_TLS') || code.startsWith('CERT_') || code.includes('SSL') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'SELF_SIGNED_CERT_IN_CHAIN';
