import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pem {
  cert: string;
  key: string;
}

/** Certificates for tests, made by openssl in a temporary directory: CAs, and server or client certificates they sign (keys unencrypted, EC P-256). */
export class TestPki {
  private serial = 0;

  private constructor(readonly dir: string) {}

  static async create(): Promise<TestPki> {
    return new TestPki(await mkdtemp(join(tmpdir(), 'webhook-pki-')));
  }

  /** A self-signed CA. */
  async ca(name: string): Promise<Pem> {
    const base = join(this.dir, `${name}-${++this.serial}`);
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.crt`,
      '-subj', `/CN=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return this.read(base);
  }

  /** A certificate signed by `ca`: for a server (`names`: DNS names and IPs in its subjectAltName) or a client. */
  async issue(ca: Pem, commonName: string, use: { server: string[] } | { client: true }): Promise<Pem> {
    const base = join(this.dir, `${commonName.replace(/\W/g, '_')}-${++this.serial}`);
    await writeFile(`${base}.ca.crt`, ca.cert);
    await writeFile(`${base}.ca.key`, ca.key);
    const ext = 'server' in use
      ? `subjectAltName=${use.server.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}\nextendedKeyUsage=serverAuth\n`
      : 'extendedKeyUsage=clientAuth\n';
    await writeFile(`${base}.ext`, ext);
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${commonName}`]);
    await run('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', `${base}.ca.crt`, '-CAkey', `${base}.ca.key`, '-set_serial', String(1000 + this.serial), '-days', '2', '-extfile', `${base}.ext`, '-out', `${base}.crt`]);
    return this.read(base);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async read(base: string): Promise<Pem> {
    return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8') };
  }
}
