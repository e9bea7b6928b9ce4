import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import { MAX_RESPONSE_DRAIN_BYTES, USER_AGENT } from '../delivery-policy.js';
import { TargetGuard, TargetRefusedError } from './target-guard.js';

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
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
  | 'network';

/**
 * The one HTTP client of the delivery app (undici): keep-alive pools per origin
 * with a connection cap, a connect timeout and a total timeout per attempt,
 * no redirects, the response body read up to a small cap, and the SSRF guard
 * applied to the address each connection is made to.
 */
@Injectable()
export class HttpSender implements OnApplicationShutdown {
  private readonly agent: Agent;
  private readonly guard: TargetGuard;
  private readonly config: GatewayConfig['delivery'];

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.config = config.delivery;
    this.guard = new TargetGuard(config.delivery.targetAllowlist);
    this.agent = new Agent({
      connections: this.config.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: this.config.timeoutMs,
      bodyTimeout: this.config.timeoutMs,
      connect: { timeout: this.config.connectTimeoutMs, lookup: this.guardedLookup },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }

  async send(req: HttpRequest): Promise<HttpAttempt> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const refusal = this.checkUrl(req.url);
    if (refusal) return { kind: 'error', errorClass: 'target_refused', message: refusal, durationMs: 0 };
    // A timer of our own, cleared when the attempt ends: AbortSignal.timeout's timer would still fire
    // (and build a DOMException) long after each request, one per attempt.
    const abort = new AbortController();
    const { signal } = abort;
    const timer = setTimeout(() => abort.abort(), req.timeoutMs);
    try {
      const res = await request(req.url, {
        dispatcher: this.agent,
        method: 'POST',
        headers: { 'user-agent': USER_AGENT, ...req.headers },
        body: req.body,
        signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      const body = await readCapped(res.body, this.config.responseBodyBytes);
      return { kind: 'response', status: res.statusCode, headers: res.headers, body, durationMs: elapsed() };
    } catch (err) {
      return { kind: 'error', ...classifyError(err, signal), durationMs: elapsed() };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Refuses a URL before any connection: scheme, HTTPS-only, and IP literals (no lookup happens for those). */
  private checkUrl(raw: string): string | null {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'invalid URL';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `unsupported scheme ${url.protocol}`;
    if (this.config.requireHttps && url.protocol !== 'https:') return 'http:// targets are refused (DELIVERY_REQUIRE_HTTPS)';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !this.guard.allowsAddress(host)) return refusedMessage(host, [host]);
    return null;
  }

  /** DNS lookup that hands the socket only addresses the guard allows. */
  private readonly guardedLookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = this.guard.allowsHost(hostname) ? addresses : addresses.filter((a) => this.guard.allowsAddress(a.address));
      if (allowed.length === 0) {
        return callback(new TargetRefusedError(refusedMessage(hostname, addresses.map((a) => a.address))), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

function refusedMessage(host: string, addresses: string[]): string {
  return `${host} resolves to ${addresses.join(', ')}: private, loopback, link-local and metadata addresses are refused unless DELIVERY_TARGET_ALLOWLIST names them`;
}

/** Keeps the first `cap` bytes; drains a little more so the connection can be reused, then drops it. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, cap: number): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  for await (const chunk of body) {
    if (keptBytes < cap) {
      const part = chunk.subarray(0, cap - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    total += chunk.length;
    if (total > cap + MAX_RESPONSE_DRAIN_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(kept).toString('utf8');
}

function classifyError(err: unknown, signal: AbortSignal): { errorClass: HttpErrorClass; message: string } {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const message = e.message ?? String(err);
  if (err instanceof TargetRefusedError || e.cause instanceof TargetRefusedError) return { errorClass: 'target_refused', message: (e.cause as Error | undefined)?.message ?? message };
  if (signal.aborted || e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return { errorClass: 'timeout', message: 'no complete response within the timeout' };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { errorClass: 'connect_timeout', message };
  if (code === 'ECONNREFUSED') return { errorClass: 'connection_refused', message };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return { errorClass: 'connection_reset', message };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return { errorClass: 'dns', message };
  if (code.startsWith('ERR_TLS') || code.startsWith('CERT_') || code.includes('SSL') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT')
    return { errorClass: 'tls', message };
  return { errorClass: 'network', message: code ? `${code}: ${message}` : message };
}
