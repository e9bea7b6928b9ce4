import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RegistrySchema } from './schema-registry-client.js';

/** How the fake answers for now: normally, 503 to everything, or never (a hung registry). */
export type FakeRegistryMode = 'ok' | 'down' | 'hang';

/**
 * A small schema registry on 127.0.0.1 speaking the Confluent API paths the gateway uses (the same
 * paths Apicurio serves under /apis/ccompat/v7): GET /schemas/ids/:id, /schemas/ids/:id/versions,
 * /subjects/:subject/versions/:version; 404 with error_code 40403 / 40401 for unknown ones. Records
 * each request (path and authorization header).
 */
export class FakeSchemaRegistry {
  readonly requests: { path: string; authorization?: string }[] = [];
  mode: FakeRegistryMode = 'ok';
  private readonly byId = new Map<number, RegistrySchema & { subject: string; version: number }>();
  private server?: Server;
  /** Answers held back in 'hang' mode, released at stop(). */
  private readonly hung: (() => void)[] = [];

  /** Registers `schema` under `subject` (next version) with this id. */
  add(id: number, subject: string, schema: RegistrySchema): this {
    const version = [...this.byId.values()].filter((s) => s.subject === subject).length + 1;
    this.byId.set(id, { ...schema, subject, version });
    return this;
  }

  /** Listens on 127.0.0.1 (over TLS with `tls`, a server certificate and key): its base URL. */
  async start(tls?: { cert: string; key: string }): Promise<string> {
    const listener: RequestListener = (req, res) => this.answer(req, (status, body) => res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(body)));
    this.server = tls ? createTlsServer(tls, listener) : createServer(listener);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const release of this.hung.splice(0)) release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests whose path starts with `prefix`. */
  count(prefix: string): number {
    return this.requests.filter((r) => r.path.startsWith(prefix)).length;
  }

  private answer(req: IncomingMessage, send: (status: number, body: unknown) => void): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ path, authorization: req.headers.authorization });
    if (this.mode === 'hang') return void this.hung.push(() => send(503, { error_code: 50301, message: 'released' }));
    if (this.mode === 'down') return send(503, { error_code: 50301, message: 'unavailable' });
    const ids = /^\/schemas\/ids\/(\d+)(\/versions)?$/.exec(path);
    if (ids) {
      const found = this.byId.get(Number(ids[1]));
      if (!found) return send(404, { error_code: 40403, message: `Schema ${ids[1]} not found` });
      const { subject, version, ...schema } = found;
      return send(200, ids[2] ? [{ subject, version }] : schema);
    }
    const versions = /^\/subjects\/([^/]+)\/versions\/(\d+)$/.exec(path);
    if (versions) {
      const subject = decodeURIComponent(versions[1]);
      const found = [...this.byId.entries()].find(([, s]) => s.subject === subject && s.version === Number(versions[2]));
      if (!found) return send(404, { error_code: 40401, message: `Subject ${subject} version ${versions[2]} not found` });
      const { subject: _s, version: _v, ...schema } = found[1];
      return send(200, { subject, version: Number(versions[2]), id: found[0], ...schema });
    }
    send(404, { error_code: 404, message: 'no such path' });
  }
}
