import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** The status it was answered with. */
  status?: number;
  /** An HTTPS receiver: the SNI the client sent, and the subject CN of its certificate (if it sent one). */
  tls?: { servername?: string; clientCN?: string };
}

export interface Behaviour {
  status?: number;
  /** Statuses for the first requests, in order; then `status` (or 200). */
  sequence?: number[];
  delayMs?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Decides the status per request (undefined: the rules above). */
  statusOf?: (request: ReceivedRequest) => number | undefined;
}

/** A real HTTP server on 127.0.0.1 that records every request; behaviour is set per path. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private server?: Server;
  private listeners: (() => void)[] = [];
  private readonly taps: ((request: ReceivedRequest) => void)[] = [];

  /** `keep: false` keeps no request (load tests): watch them with `tap`. `https`: an HTTPS server with these options (certificate, client certificates asked for). */
  constructor(
    private readonly keep = true,
    private readonly https?: HttpsOptions,
  ) {}

  /** Calls `fn` with every request as it arrives. */
  tap(fn: (request: ReceivedRequest) => void): void {
    this.taps.push(fn);
  }

  async start(): Promise<this> {
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const request: ReceivedRequest = { path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        if (this.https) {
          const socket = req.socket as TLSSocket;
          const cn = socket.getPeerCertificate().subject?.CN;
          request.tls = { servername: typeof socket.servername === 'string' ? socket.servername : undefined, clientCN: Array.isArray(cn) ? cn[0] : cn };
        }
        if (this.keep) this.requests.push(request);
        const b = this.behaviours.get(path) ?? {};
        const nth = this.requests.filter((r) => r.path === path).length - 1;
        const status = b.statusOf?.(request) ?? b.sequence?.[nth] ?? b.status ?? 200;
        request.status = status;
        for (const t of this.taps) t(request);
        for (const l of this.listeners) l();
        const reply = () => {
          if (res.destroyed) return;
          res.writeHead(status, { 'content-type': 'text/plain', ...b.headers });
          res.end(b.body ?? 'ok');
        };
        if (b.delayMs) setTimeout(reply, b.delayMs);
        else reply();
      });
    };
    this.server = this.https ? createHttpsServer(this.https, handle) : createServer(handle);
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  url(path: string, host = '127.0.0.1'): string {
    return `${this.https ? 'https' : 'http'}://${host}:${this.port}${path}`;
  }

  behave(path: string, behaviour: Behaviour): void {
    this.behaviours.set(path, behaviour);
  }

  on(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Waits until `predicate` holds over the requests received so far. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs = 30_000, what = 'requests'): Promise<ReceivedRequest[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.requests)) return false;
        cleanup();
        resolve(this.requests);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; got ${this.requests.length}: ${this.requests.map((r) => r.path).join(', ')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
      };
      const listener = () => void check();
      this.listeners.push(listener);
      check();
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
