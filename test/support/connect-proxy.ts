import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

/**
 * A real HTTP CONNECT proxy on 127.0.0.1 that records every CONNECT target (and its
 * Proxy-Authorization) and tunnels only to 127.0.0.1; `refuseWith` answers every CONNECT with
 * that status instead.
 */
export class ConnectProxy {
  readonly connects: { target: string; authorization?: string }[] = [];
  refuseWith?: number;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  async start(): Promise<this> {
    this.server = createServer((_req, res) => res.writeHead(405).end());
    this.server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => this.tunnel(req, client, head));
    this.server.on('connection', (s: Socket) => this.track(s));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /** Its URL, with credentials when given. */
  url(credentials?: string): string {
    return `http://${credentials ? `${credentials}@` : ''}127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
    const target = req.url ?? '';
    this.connects.push({ target, authorization: req.headers['proxy-authorization'] });
    client.on('error', () => client.destroy());
    if (this.refuseWith !== undefined) {
      client.end(`HTTP/1.1 ${this.refuseWith} Refused by test proxy\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const m = /^127\.0\.0\.1:(\d+)$/.exec(target);
    if (!m) {
      client.end('HTTP/1.1 502 Only loopback\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const upstream = this.track(connect(Number(m[1]), '127.0.0.1'));
    upstream.on('error', () => client.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }
}
