import { readFileSync } from 'node:fs';
import { ConfigError, loadCliConfig, loadConfig } from './config.js';
import { SETTINGS } from './config.schema.js';

const required = { API_TOKENS: 't1, t2', SECRETS_KEY: 'ab'.repeat(32) };

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
