import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadCliConfig, loadConfig } from './config.js';
import { SETTINGS } from './config.schema.js';

const required = { API_TOKENS: 't1, t2', SECRETS_KEY: 'ab'.repeat(32) };

/** The problems loadConfig lists for these settings (with the required ones), or none. */
const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig({ ...required, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('loadConfig', () => {
  it('fills defaults and parses values', () => {
    const config = loadConfig({ ...required, SOURCE_TOPICS: 'a, b', DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32' });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.source.topics).toEqual(['a', 'b']);
    expect(config.source.start).toBe('earliest');
    expect(config.api.tokens).toEqual(['t1', 't2']);
    expect(config.subscriptions.secretsKey).toHaveLength(32);
    expect(config.delivery.targetAllowlist).toEqual(['127.0.0.1/32']);
    expect(config.delivery.requireHttps).toBe(false);
  });

  it('lists every bad or missing key at once, without showing secrets', () => {
    let error: unknown;
    try {
      loadConfig({ SECRETS_KEY: 'not-a-key-but-secret', API_PORT: 'eighty', KAFKA_BROKERS: 'nohostport', SOURCE_START: 'middle', DELIVERY_REQUIRE_HTTPS: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.split(/[= ]/)[0])).toEqual(['KAFKA_BROKERS', 'SOURCE_START', 'API_PORT', 'API_TOKENS', 'SECRETS_KEY', 'DELIVERY_REQUIRE_HTTPS']);
    expect(message).not.toContain('not-a-key-but-secret');
  });

  it('declares each setting once: one variable, one place in the config, no place inside another', () => {
    const paths = SETTINGS.map((s) => s.path);
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
    expect(new Set(paths).size).toBe(SETTINGS.length);
    expect(paths.filter((p) => paths.some((q) => q.startsWith(`${p}.`)))).toEqual([]);
  });

  it('is documented: the README lists every setting', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const setting of Object.values(SETTINGS)) expect(readme).toContain(`\`${setting.env}\``);
  });
});

describe('loadCliConfig', () => {
  it('reads the same schema without the apps’ own required settings', () => {
    const config = loadCliConfig({ TOPIC_PREFIX: 'ops', GATEWAY_API_URL: 'http://gw.local:3000/' });
    expect(config.kafka.topicPrefix).toBe('ops');
    expect(config.cli).toEqual({ apiUrl: 'http://gw.local:3000', apiToken: undefined });
    expect(config.source.groupId).toBe('webhooks-producer');
    expect('api' in config).toBe(false);
  });

  it('still refuses bad values', () => {
    expect(() => loadCliConfig({ KAFKA_BROKERS: 'nohostport', GATEWAY_API_URL: 'ftp://x' })).toThrow(/KAFKA_BROKERS=nohostport[\s\S]*GATEWAY_API_URL=ftp:\/\/x/);
  });
});

describe('Kafka security settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-spec-'));
  const file = (name: string, text = 'x') => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('defaults to PLAINTEXT without TLS or SASL', () => {
    expect(loadConfig(required).kafka.security).toEqual({ protocol: 'PLAINTEXT', tls: undefined, sasl: undefined });
  });

  it('reads SASL_SSL with SCRAM, a CA file and a server name', () => {
    const ca = file('ca.pem');
    const { security } = loadConfig({
      ...required,
      KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'gw',
      KAFKA_SASL_PASSWORD: 'pw',
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SSL_SERVERNAME: 'kafka.internal',
    }).kafka;
    expect(security).toEqual({
      protocol: 'SASL_SSL',
      tls: { caFile: ca, certFile: undefined, keyFile: undefined, keyPassword: undefined, servername: 'kafka.internal', verify: true },
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'gw', password: 'pw' },
    });
  });

  it('reads OAUTHBEARER client credentials with extensions', () => {
    const { sasl } = loadConfig({
      ...required,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
      KAFKA_OAUTH_TOKEN_URL: 'https://idp.example.com/token',
      KAFKA_OAUTH_CLIENT_ID: 'gw',
      KAFKA_OAUTH_CLIENT_SECRET: 's3cret',
      KAFKA_OAUTH_SCOPE: 'kafka',
      KAFKA_OAUTH_EXTENSIONS: 'logicalCluster=lkc-1, identityPoolId=pool-2',
    }).kafka.security;
    expect(sasl).toEqual({
      mechanism: 'OAUTHBEARER',
      oauth: { tokenUrl: 'https://idp.example.com/token', clientId: 'gw', clientSecret: 's3cret', scope: 'kafka', extensions: { logicalCluster: 'lkc-1', identityPoolId: 'pool-2' } },
    });
  });

  it('reads every secret from <NAME>_FILE, without the trailing newline', () => {
    const config = loadConfig({
      API_TOKENS_FILE: file('tokens', 't1,t2\n'),
      SECRETS_KEY_FILE: file('key', `${'cd'.repeat(32)}\n`),
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'gw',
      KAFKA_SASL_PASSWORD_FILE: file('password', 'from-file\n'),
    });
    expect(config.api.tokens).toEqual(['t1', 't2']);
    expect(config.subscriptions.secretsKey.toString('hex')).toBe('cd'.repeat(32));
    expect(config.kafka.security.sasl).toEqual({ mechanism: 'PLAIN', username: 'gw', password: 'from-file' });
  });

  it('refuses a secret set twice and an unreadable secret file, naming the variable', () => {
    expect(problems({ KAFKA_SASL_PASSWORD: 'a', KAFKA_SASL_PASSWORD_FILE: file('p2', 'b') })).toContain('KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: set one');
    expect(problems({ KAFKA_OAUTH_CLIENT_SECRET_FILE: join(dir, 'missing') })).toEqual([`KAFKA_OAUTH_CLIENT_SECRET_FILE=${join(dir, 'missing')} cannot be read: ENOENT`]);
  });

  it('names every inconsistent combination at once', () => {
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' })).toEqual(['KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)']);
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256' })).toEqual([
      'KAFKA_SASL_MECHANISM=SCRAM-SHA-256 needs KAFKA_SASL_USERNAME',
      'KAFKA_SASL_MECHANISM=SCRAM-SHA-256 needs KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)',
    ]);
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'OAUTHBEARER', KAFKA_SASL_USERNAME: 'u' })).toEqual([
      'KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM=OAUTHBEARER does not use it',
      'KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_TOKEN_URL',
      'KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_CLIENT_ID',
      'KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_CLIENT_SECRET (or KAFKA_OAUTH_CLIENT_SECRET_FILE)',
    ]);
    expect(problems({ KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SSL_CA_FILE: file('ca2') })).toEqual([
      'KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS (use SSL or SASL_SSL)',
      'KAFKA_SASL_MECHANISM=PLAIN is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use SASL (use SASL_SSL)',
      'KAFKA_SASL_MECHANISM=PLAIN needs KAFKA_SASL_USERNAME',
      'KAFKA_SASL_MECHANISM=PLAIN needs KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)',
    ]);
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: file('cert'), KAFKA_SSL_KEY_PASSWORD: 'p' })).toEqual([
      'KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE: mutual TLS needs the certificate and its key',
      'KAFKA_SSL_KEY_PASSWORD is set without KAFKA_SSL_KEY_FILE',
    ]);
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_KEY_FILE: join(dir, 'nope.pem') })).toEqual([`KAFKA_SSL_KEY_FILE=${join(dir, 'nope.pem')} cannot be read: ENOENT`]);
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'TLS' })[0]).toMatch(/^KAFKA_SECURITY_PROTOCOL=TLS must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/);
  });

  it('reads DELIVERY_PROXY_URL as host, port and Basic credentials, and never repeats a bad one', () => {
    expect(loadConfig(required).delivery.proxyUrl).toBeUndefined();
    expect(loadConfig({ ...required, DELIVERY_PROXY_URL: 'http://proxy.internal:3128' }).delivery.proxyUrl).toEqual({ host: 'proxy.internal', port: 3128 });
    expect(loadConfig({ ...required, DELIVERY_PROXY_URL: 'http://egress:p%40ss@10.0.0.5:8080/' }).delivery.proxyUrl).toEqual({
      host: '10.0.0.5',
      port: 8080,
      authorization: `Basic ${Buffer.from('egress:p@ss').toString('base64')}`,
    });
    for (const bad of ['https://u:hunter3@proxy:443', 'http://u:hunter3@proxy', 'http://u:hunter3@proxy:3128/path', 'u:hunter3@proxy:3128']) {
      let message = '';
      try {
        loadConfig({ ...required, DELIVERY_PROXY_URL: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^.*DELIVERY_PROXY_URL=<redacted> must/m);
      expect(message).not.toContain('hunter3');
    }
  });

  it('never shows a secret in its messages', () => {
    let message = '';
    try {
      loadConfig({ ...required, KAFKA_SASL_PASSWORD: 'hunter2-secret', KAFKA_OAUTH_CLIENT_SECRET: 'oauth-secret-9', KAFKA_SSL_KEY_PASSWORD: 'key-pass-7' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('KAFKA_SASL_PASSWORD is set but no KAFKA_SASL_MECHANISM is');
    for (const secret of ['hunter2-secret', 'oauth-secret-9', 'key-pass-7']) expect(message).not.toContain(secret);
  });
});

describe('settings that cannot work together', () => {
  it('refuses a connect timeout that is not below the attempt timeout', () => {
    expect(problems({ DELIVERY_CONNECT_TIMEOUT_MS: '5000', DELIVERY_TIMEOUT_MS: '5000' })).toEqual([
      "DELIVERY_CONNECT_TIMEOUT_MS=5000 must be below DELIVERY_TIMEOUT_MS=5000: the connect timeout is part of an attempt's total time, so it would never fire",
    ]);
    expect(problems({ DELIVERY_TIMEOUT_MS: '1000' })[0]).toMatch(/^DELIVERY_CONNECT_TIMEOUT_MS=2000 must be below DELIVERY_TIMEOUT_MS=1000/);
    expect(problems({ DELIVERY_CONNECT_TIMEOUT_MS: '999', DELIVERY_TIMEOUT_MS: '1000' })).toEqual([]);
  });

  it('refuses more attempts in flight per endpoint than per process', () => {
    expect(problems({ DELIVERY_MAX_IN_FLIGHT: '32', DELIVERY_CONNECTIONS_PER_ORIGIN: '64' })).toEqual([
      'DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT=64 must not exceed DELIVERY_MAX_IN_FLIGHT=32: an endpoint cannot have more attempts in flight than the whole process, so one slow endpoint could take every slot',
    ]);
    expect(problems({ DELIVERY_MAX_IN_FLIGHT: '1024', DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT: '1024', DELIVERY_CONNECTIONS_PER_ORIGIN: '1024' })).toEqual([]);
  });

  it('refuses fewer connections per origin than attempts in flight per endpoint, and allows more', () => {
    expect(problems({ DELIVERY_CONNECTIONS_PER_ORIGIN: '8' })).toEqual([
      "DELIVERY_CONNECTIONS_PER_ORIGIN=8 must not be below DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT=64: an attempt without a connection waits inside the HTTP client with its timeout running, and fails as the endpoint's timeout (raise the connections or lower the attempts in flight per endpoint)",
    ]);
    expect(problems({ DELIVERY_CONNECTIONS_PER_ORIGIN: '8', DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT: '8' })).toEqual([]);
    expect(problems({ DELIVERY_CONNECTIONS_PER_ORIGIN: '256' })).toEqual([]);
  });

  it('refuses one consumer group for both apps', () => {
    expect(problems({ SOURCE_GROUP_ID: 'gw', DELIVERY_GROUP_ID: 'gw' })).toEqual([
      "SOURCE_GROUP_ID=gw and DELIVERY_GROUP_ID=gw must differ: the producer and delivery apps would share one consumer group and be handed each other's partitions",
    ]);
  });

  it("refuses a source topic that is one of the gateway's own", () => {
    expect(problems({ TOPIC_PREFIX: 'gw', SOURCE_TOPICS: 'orders,gw.deliveries,gw.retry.5s' })).toEqual([
      "SOURCE_TOPICS names gw.deliveries, one of the gateway's own topics (TOPIC_PREFIX=gw): its records would be read as events and fanned out again",
      "SOURCE_TOPICS names gw.retry.5s, one of the gateway's own topics (TOPIC_PREFIX=gw): its records would be read as events and fanned out again",
    ]);
    expect(problems({ TOPIC_PREFIX: 'gw', SOURCE_TOPICS: 'gw.events,webhooks.deliveries' })).toEqual([]);
  });

  it('lists them with the other problems, and skips a check whose settings are bad themselves', () => {
    expect(problems({ API_PORT: 'eighty', DELIVERY_TIMEOUT_MS: '1000', DELIVERY_CONNECTIONS_PER_ORIGIN: 'many', DELIVERY_MAX_IN_FLIGHT: '16' }).map((p) => p.split(/[= ]/)[0])).toEqual([
      'API_PORT',
      'DELIVERY_CONNECTIONS_PER_ORIGIN',
      'DELIVERY_CONNECT_TIMEOUT_MS',
      'DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT',
    ]);
  });

  it('applies to the CLI read too', () => {
    expect(() => loadCliConfig({ SOURCE_GROUP_ID: 'gw', DELIVERY_GROUP_ID: 'gw' })).toThrow(/SOURCE_GROUP_ID=gw and DELIVERY_GROUP_ID=gw must differ/);
  });
});

describe('schema registry settings', () => {
  it('is off by default and decodes every source topic once a URL is set', () => {
    const off = loadConfig(required).source.schemaRegistry;
    expect(off).toMatchObject({ urls: [], topics: ['*'], decodeKeys: false });
    const on = loadConfig({ ...required, SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7, https://sr2.local', SCHEMA_REGISTRY_TOKEN: 'tok' }).source.schemaRegistry;
    expect(on).toMatchObject({ urls: ['http://127.0.0.1:8081/apis/ccompat/v7', 'https://sr2.local'], token: 'tok', topics: ['*'] });
  });

  it('reads the password from SCHEMA_REGISTRY_PASSWORD_FILE', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sr-')), 'password');
    writeFileSync(file, 'pw-from-file\n');
    const config = loadConfig({ ...required, SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', SCHEMA_REGISTRY_USERNAME: 'u', SCHEMA_REGISTRY_PASSWORD_FILE: file });
    expect(config.source.schemaRegistry.password).toBe('pw-from-file');
  });

  it('refuses credentials without a URL, both kinds at once, half a Basic pair and a topic that is not a source topic, never showing a secret', () => {
    expect(problems({ SCHEMA_REGISTRY_TOKEN: 'secret-token', SCHEMA_REGISTRY_CA_FILE: '/dev/null' })).toEqual([
      'SCHEMA_REGISTRY_TOKEN is set but SCHEMA_REGISTRY_URL is empty (no schema registry)',
      'SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL is empty (no schema registry)',
    ]);
    const found = problems({ SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', SCHEMA_REGISTRY_TOKEN: 'secret-token', SCHEMA_REGISTRY_PASSWORD: 'secret-pw', SCHEMA_REGISTRY_TOPICS: 'events,other' });
    expect(found).toEqual([
      'SCHEMA_REGISTRY_TOKEN and SCHEMA_REGISTRY_USERNAME/SCHEMA_REGISTRY_PASSWORD are both set: use Basic credentials or a bearer token, not both',
      'SCHEMA_REGISTRY_PASSWORD is set without SCHEMA_REGISTRY_USERNAME',
      'SCHEMA_REGISTRY_TOPICS names other, which is not one of SOURCE_TOPICS',
    ]);
    expect(found.join('\n')).not.toMatch(/secret-/);
    expect(problems({ SCHEMA_REGISTRY_URL: 'ftp://registry' })[0]).toMatch(/^SCHEMA_REGISTRY_URL/);
  });
});

describe('customer portal settings', () => {
  it("takes origins and 'self' for PORTAL_FRAME_ANCESTORS, and nothing else", () => {
    expect(loadConfig(required).portal).toEqual({ enabled: true, frameAncestors: [], title: 'Webhooks', themeFile: undefined });
    expect(loadConfig({ ...required, PORTAL_FRAME_ANCESTORS: "https://App.Example.com, https://*.example.com:8443 'self' http://localhost:*" }).portal.frameAncestors).toEqual([
      'https://app.example.com',
      'https://*.example.com:8443',
      "'self'",
      'http://localhost:*',
    ]);
    // Each of these would change the policy it is written into (a path, another directive, a keyword, a scheme source).
    for (const bad of ['https://a.example.com/path', "https://a.example.com; script-src 'unsafe-inline'", "'unsafe-inline'", '*', 'https:', 'javascript:alert(1)']) {
      expect(() => loadConfig({ ...required, PORTAL_FRAME_ANCESTORS: bad })).toThrow(/PORTAL_FRAME_ANCESTORS/);
    }
  });
});
