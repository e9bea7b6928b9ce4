import type { LookupFunction } from 'node:net';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { buildConnector, errors } from 'undici';
import type { ProxySetting } from '@app/config';

/** A subscription's mutual TLS material (PEM): its client certificate and key, and the CAs it trusts instead of the default roots. */
export interface ClientTls {
  cert: string;
  key: string;
  ca?: string;
}

/** The egress proxy could not be reached, or refused or failed the CONNECT. The message names the proxy by host:port only. */
export class ProxyError extends Error {
  readonly code = 'PROXY_ERROR';
}

/**
 * The endpoint closed or reset a TLS connection before sending a byte on it: with TLS 1.3 the
 * server judges the client certificate (or its absence) after the handshake, so its refusal
 * arrives that way (or as an alert) on the first request.
 */
export class ClientCertificateRefusedError extends Error {
  readonly code = 'ERR_TLS_CLIENT_CERTIFICATE_REFUSED';
}

export interface EgressOptions {
  /** The SSRF-guarded DNS lookup: only allowed addresses come out of it. */
  lookup: LookupFunction;
  /** DELIVERY_CONNECT_TIMEOUT_MS: TCP (and through a proxy: the CONNECT) and TLS together. */
  timeoutMs: number;
  proxy?: ProxySetting;
  tls?: ClientTls;
}

/** Largest CONNECT answer head read from the proxy. */
const MAX_PROXY_HEAD_BYTES = 16 * 1024;

/**
 * How the delivery app's undici dispatchers open a connection (the `connect` of an Agent, so
 * undici keeps pooling and keep-alive). Direct: undici's own connector with the guarded lookup.
 * Through DELIVERY_PROXY_URL: the target is resolved by the guarded lookup first, the proxy is
 * asked to `CONNECT <checked IP>:<port>` (never the name, so a DNS answer that changes between
 * the check and the connection cannot reach a refused address), and an https target gets TLS
 * over the tunnel with the original host as SNI and as the name its certificate is checked
 * against. A client certificate (mutual TLS) is presented either way.
 */
export function egressConnector(options: EgressOptions): buildConnector.connector {
  const tls: ConnectionOptions = options.tls ? { cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca !== undefined && { ca: options.tls.ca }) } : {};
  const proxy = options.proxy;
  const connect: buildConnector.connector =
    proxy === undefined
      ? buildConnector({ timeout: options.timeoutMs, lookup: options.lookup, ...tls })
      : (target, callback) => new Tunnel(proxy, options, tls, target, callback).open();
  return (target, callback) =>
    connect(target, (...args) => {
      // undici's connector calls back with the error alone when it fails.
      if (args[1] != null && target.protocol === 'https:') watchForRefusal(args[1]);
      callback(...args);
    });
}

/**
 * Before undici's own listeners: a TLS connection that the endpoint ends or resets before
 * sending anything on it fails with ClientCertificateRefusedError (class `tls`) instead of an
 * unexplained close.
 */
function watchForRefusal(socket: Socket): void {
  const message = 'the endpoint closed the connection after the TLS handshake without answering: a missing or refused client certificate';
  socket.once('end', () => {
    if (socket.bytesRead === 0) socket.destroy(new ClientCertificateRefusedError(message));
  });
  socket.on('error', (err: Error & { code?: string; cause?: unknown }) => {
    if (socket.bytesRead === 0 && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && err.cause === undefined) err.cause = new ClientCertificateRefusedError(message);
  });
}

/** `host:port` of the proxy, for messages (never its credentials). */
export const proxyName = (proxy: ProxySetting): string => (isIP(proxy.host) === 6 ? `[${proxy.host}]:${proxy.port}` : `${proxy.host}:${proxy.port}`);

/** One connection through the proxy: lookup, CONNECT, then TLS for https; one deadline for all of it. */
class Tunnel {
  private socket?: Socket;
  private tlsSocket?: Socket;
  /** Where it is: errors before the tunnel stands are the proxy's. */
  private stage: 'lookup' | 'proxy' | 'tls' = 'lookup';
  private done = false;
  private readonly timer: NodeJS.Timeout;
  private readonly hostname: string;
  private readonly port: number;
  private readonly https: boolean;

  constructor(
    private readonly proxy: ProxySetting,
    private readonly options: EgressOptions,
    private readonly tls: ConnectionOptions,
    private readonly target: buildConnector.Options,
    private callback: buildConnector.Callback | null,
  ) {
    this.hostname = target.hostname;
    this.https = target.protocol === 'https:';
    this.port = Number(target.port) || (this.https ? 443 : 80);
    this.timer = setTimeout(() => this.timedOut(), options.timeoutMs);
  }

  open(): void {
    this.options.lookup(this.hostname, { all: false }, (err, found) => {
      const address = found as string;
      if (err) return this.finish(err);
      if (this.done) return;
      this.stage = 'proxy';
      const authority = isIP(address) === 6 ? `[${address}]:${this.port}` : `${address}:${this.port}`;
      const socket = (this.socket = netConnect({ host: this.proxy.host, port: this.proxy.port }));
      socket.setNoDelay(true).setKeepAlive(true, 60_000);
      socket.on('error', this.onProxyError);
      socket.once('connect', () => {
        const auth = this.proxy.authorization === undefined ? '' : `Proxy-Authorization: ${this.proxy.authorization}\r\n`;
        socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
      });
      this.readAnswer(socket, authority);
    });
  }

  /** The proxy's answer head; 2xx: the tunnel stands (bytes past the head are put back). */
  private readAnswer(socket: Socket, authority: string): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_PROXY_HEAD_BYTES) this.finish(new ProxyError(`proxy ${proxyName(this.proxy)} sent an answer head over ${MAX_PROXY_HEAD_BYTES} bytes to CONNECT ${authority}`));
        return;
      }
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
      if (!(status >= 200 && status < 300)) {
        const answer = Number.isNaN(status) ? 'no HTTP status' : statusLine.slice(9).trim();
        return this.finish(new ProxyError(`proxy ${proxyName(this.proxy)} answered ${answer} to CONNECT ${authority}`));
      }
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      this.tunnelled(socket);
    };
    const onEnd = () => this.finish(new ProxyError(`proxy ${proxyName(this.proxy)} closed the connection before answering CONNECT ${authority}`));
    socket.on('data', onData);
    socket.once('end', onEnd);
  }

  private tunnelled(socket: Socket): void {
    if (!this.https) {
      socket.off('error', this.onProxyError);
      return this.finish(null, socket);
    }
    this.stage = 'tls';
    const servername = this.target.servername || (isIP(this.hostname) === 0 ? this.hostname : undefined);
    const tlsSocket = (this.tlsSocket = tlsConnect({ ...this.tls, socket, host: this.hostname, servername, ALPNProtocols: ['http/1.1'] }));
    socket.off('error', this.onProxyError);
    tlsSocket.on('error', this.onTlsError);
    tlsSocket.once('secureConnect', () => {
      tlsSocket.off('error', this.onTlsError);
      this.finish(null, tlsSocket);
    });
  }

  private readonly onProxyError = (err: Error): void => {
    this.finish(new ProxyError(`proxy ${proxyName(this.proxy)}: ${(err as { code?: string }).code ?? err.message}`));
  };

  private readonly onTlsError = (err: Error): void => this.finish(err);

  private timedOut(): void {
    const what = this.stage === 'tls' ? `TLS with ${this.hostname} through the proxy` : this.stage === 'proxy' ? `CONNECT through proxy ${proxyName(this.proxy)}` : `lookup of ${this.hostname}`;
    const err = this.stage === 'proxy' ? new ProxyError(`${what}: no answer within ${this.options.timeoutMs} ms`) : new errors.ConnectTimeoutError(`${what}: not done within ${this.options.timeoutMs} ms`);
    this.finish(err);
  }

  private finish(err: Error | null, socket?: Socket): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    const callback = this.callback!;
    this.callback = null;
    if (err) {
      this.tlsSocket?.destroy();
      this.socket?.destroy();
      callback(err, null);
    } else {
      callback(null, socket!);
    }
  }
}
