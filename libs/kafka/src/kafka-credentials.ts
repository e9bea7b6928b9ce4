import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { KafkaSecurityConfig } from '@app/config';
import { OAuthTokenProvider } from './oauth-token-provider.js';

const PREFLIGHT_TIMEOUT_MS = 10_000;

/** Node's codes for a certificate chain or name the client does not accept. */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
]);
const EXPIRED_CERTIFICATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** A Kafka connection setting that cannot work, named for the operator; start-up stops on it. */
export class KafkaSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaSetupError';
  }
}

/**
 * The TLS and SASL material of a process's Kafka clients, built once from KAFKA_SECURITY_PROTOCOL
 * and friends: every client of the process (the apps' consumers, producers and admins, the CLI,
 * the demo's and benches' load generators) gets its kafkajs `ssl`/`sasl` options here, and
 * OAUTHBEARER clients share one token provider.
 */
export class KafkaCredentials {
  private readonly logger = new Logger('KafkaCredentials');
  readonly tls?: ConnectionOptions;
  readonly tokens?: OAuthTokenProvider;
  private readonly sasl?: SASLOptions;

  constructor(readonly security: KafkaSecurityConfig) {
    const { tls, sasl } = security;
    if (tls) {
      this.tls = {
        ca: tls.caFile ? [readFileSync(tls.caFile)] : undefined,
        cert: tls.certFile ? readFileSync(tls.certFile) : undefined,
        key: tls.keyFile ? readFileSync(tls.keyFile) : undefined,
        passphrase: tls.keyPassword,
        servername: tls.servername,
        rejectUnauthorized: tls.verify,
      };
      // kafkajs spreads these over its own { host, port, servername: host }: leave out what is unset.
      for (const key of Object.keys(this.tls) as (keyof ConnectionOptions)[]) if (this.tls[key] === undefined) delete this.tls[key];
    }
    if (sasl?.mechanism === 'OAUTHBEARER') {
      this.tokens = new OAuthTokenProvider(sasl.oauth);
      this.sasl = { mechanism: 'oauthbearer', oauthBearerProvider: this.tokens.token };
    } else if (sasl) {
      const mechanism = sasl.mechanism === 'PLAIN' ? 'plain' : sasl.mechanism === 'SCRAM-SHA-256' ? 'scram-sha-256' : 'scram-sha-512';
      this.sasl = { mechanism, username: sasl.username, password: sasl.password };
    }
  }

  /** kafkajs' `ssl` and `sasl` options. */
  clientOptions(): Pick<KafkaConfig, 'ssl' | 'sasl'> {
    return { ...(this.tls ? { ssl: this.tls } : {}), ...(this.sasl ? { sasl: this.sasl } : {}) };
  }

  /** Says once per process what the clients use, and loudly when certificates are not verified. */
  describe(): string {
    const { protocol, tls, sasl } = this.security;
    const parts: string[] = [protocol];
    if (sasl) parts.push(sasl.mechanism === 'OAUTHBEARER' ? `OAUTHBEARER (client ${sasl.oauth.clientId})` : `${sasl.mechanism} (user ${sasl.username})`);
    if (tls?.certFile) parts.push('mutual TLS');
    return parts.join(', ');
  }

  /**
   * Before any client connects: waits for the first OAUTHBEARER token (retrying, never
   * crash-looping) and checks that the brokers' certificates are trusted, so a wrong CA or server
   * name stops start-up at once with the setting to fix (kafkajs would retry it for a minute as
   * a connection error).
   */
  async preflight(brokers: string[]): Promise<void> {
    if (this.security.tls && !this.security.tls.verify) {
      this.logger.warn('KAFKA_SSL_INSECURE_SKIP_VERIFY=true: the brokers\' TLS certificates are NOT verified; anyone on the network path can read and change the traffic. Never use this in production.');
    }
    if (this.tls && this.security.tls?.verify) await checkBrokerCertificate(brokers, this.tls);
    await this.tokens?.ready();
  }

  close(): void {
    this.tokens?.close();
  }
}

/** One TLS handshake with the first broker that answers: an untrusted certificate is a KafkaSetupError naming the setting. */
async function checkBrokerCertificate(brokers: string[], tls: ConnectionOptions): Promise<void> {
  let lastError: unknown;
  for (const broker of brokers) {
    const at = broker.lastIndexOf(':');
    const host = broker.slice(0, at);
    const port = Number(broker.slice(at + 1));
    try {
      await handshake(host, port, tls);
      return;
    } catch (err) {
      if (err instanceof KafkaSetupError) throw err;
      lastError = err; // unreachable: kafkajs retries and reports it like any connection problem
    }
  }
  new Logger('KafkaCredentials').warn(`TLS check: no broker of KAFKA_BROKERS answered (${(lastError as Error | undefined)?.message}); the clients will keep trying`);
}

function handshake(host: string, port: number, tls: ConnectionOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const servername = tls.servername ?? host;
    const socket = tlsConnect({ host, port, ...tls, servername: /^[\d.]+$|:/.test(servername) ? undefined : servername, timeout: PREFLIGHT_TIMEOUT_MS });
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.once('secureConnect', () => done());
    socket.once('timeout', () => done(new Error(`TLS handshake with ${host}:${port} timed out`)));
    socket.once('error', (err: NodeJS.ErrnoException) => done(explainTlsError(err, `${host}:${port}`, servername) ?? err));
  });
}

/** A TLS error that a setting must fix, as a KafkaSetupError naming it; undefined for network trouble. */
export function explainTlsError(err: NodeJS.ErrnoException, broker: string, servername: string): KafkaSetupError | undefined {
  const code = err.code ?? '';
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    return new KafkaSetupError(
      `the TLS certificate of broker ${broker} is not trusted (${code}: ${err.message}): set KAFKA_SSL_CA_FILE to the CA bundle that signed the brokers' certificates`,
      { cause: err },
    );
  }
  if (EXPIRED_CERTIFICATE.has(code)) return new KafkaSetupError(`the TLS certificate of broker ${broker} is not valid now (${code}): renew it on the broker`, { cause: err });
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new KafkaSetupError(
      `the TLS certificate of broker ${broker} is not for the name "${servername}" (${err.message}): use the host name the certificate names in KAFKA_BROKERS, or set KAFKA_SSL_SERVERNAME`,
      { cause: err },
    );
  }
  if (code.startsWith('ERR_SSL_') || /wrong version number|packet length too long/i.test(err.message)) {
    return new KafkaSetupError(`broker ${broker} does not speak TLS (${err.message}): check KAFKA_SECURITY_PROTOCOL and the port in KAFKA_BROKERS`, { cause: err });
  }
  return undefined;
}
