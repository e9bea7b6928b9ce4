import { Writable } from 'node:stream';
import { GatewayLogger, scrub } from './logger.js';

function capture(format: 'json' | 'text' = 'json') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: new GatewayLogger({ logLevel: 'debug', logFormat: format }, 'test', sink), lines };
}
const flush = () => new Promise((r) => setImmediate(r));

describe('GatewayLogger', () => {
  it('writes one JSON object per line with the app, level, context and fields', async () => {
    const { logger, lines } = capture();
    logger.warn({ msg: 'dead-lettered', webhookId: 'msg_1', attempt: 3 }, 'DeliveryService');
    logger.log('plain text', 'Ctx');
    logger.verbose('not at debug level', 'Ctx');
    await flush();
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', app: 'test', context: 'DeliveryService', msg: 'dead-lettered', webhookId: 'msg_1', attempt: 3 });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'info', context: 'Ctx', msg: 'plain text' });
  });

  it('redacts secret fields at any depth and secret-looking text anywhere', async () => {
    const { logger, lines } = capture();
    logger.warn({
      msg: 'request failed with Bearer tok-123 and whsec_c2VjcmV0c2VjcmV0',
      headers: { authorization: 'Bearer tok-456', 'webhook-signature': 'v1,abcdefghijklmnopqrstuvwxyz0123456789' },
      subscription: { secrets: [{ secret: 'whsec_AAAA' }], token: 'tok-789' },
      note: 'signed v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    });
    logger.error('boom with whsec_ZZZZ', 'stack line 1', 'Ctx');
    await flush();
    const out = lines.join('\n');
    for (const leaked of ['tok-123', 'tok-456', 'tok-789', 'c2VjcmV0c2VjcmV0', 'whsec_AAAA', 'abcdefghijklmnop', 'K5oZfzN95Z9', 'whsec_ZZZZ']) expect(out).not.toContain(leaked);
    expect(out).toContain('[redacted]');
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'error', context: 'Ctx', stack: 'stack line 1' });
  });

  it('writes readable lines with LOG_FORMAT=text, scrubbed the same way', async () => {
    const { logger, lines } = capture('text');
    logger.warn({ msg: 'disabled', subscriptionId: 'sub_1', secret: 'whsec_QQQQ' }, 'DeliveryService');
    await flush();
    expect(lines[0]).toMatch(/^\S+ WARN \[DeliveryService\] disabled subscriptionId=sub_1 secret=\[redacted\]$/);
  });

  it('scrubs free text', () => {
    expect(scrub('Authorization: Bearer abc.def whsec_xyz')).toBe('Authorization: Bearer [redacted] whsec_[redacted]');
    expect(scrub('authorization: "Basic dXNlcjpwYXNzd29yZA==", next')).toBe('authorization: "Basic [redacted]", next');
  });

  it("redacts an endpoint's auth credentials: password, client_secret, access tokens", async () => {
    const { logger, lines } = capture();
    logger.warn({
      msg: 'auth',
      auth: { type: 'oauth2', client_secret: 'cs-snake', clientSecret: 'cs-camel', password: 'pw-1' },
      answer: { access_token: 'at-snake', refresh_token: 'rt-1' },
      held: { accessToken: 'at-camel' },
    });
    await flush();
    const out = lines.join('\n');
    for (const leaked of ['cs-snake', 'cs-camel', 'pw-1', 'at-snake', 'rt-1', 'at-camel']) expect(out).not.toContain(leaked);
    expect(JSON.parse(lines[0]!)).toMatchObject({ auth: { type: 'oauth2' } });
  });
});
