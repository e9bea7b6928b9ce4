import { randomUUID } from 'node:crypto';
import { GatewayRig } from './support/rig.js';

/**
 * The event catalogue against the real broker: events of several types for two tenants and
 * without one go through the fan-out; the compacted event-types topic is read back and served
 * by GET /v1/event-types, scoped to the caller's tenant.
 */
describe('event catalogue: GET /v1/event-types', () => {
  const rig = new GatewayRig('event-types', { API_TENANT_TOKENS: 'acme:acme-token,globex:globex-token' }, { read: [] });
  const { gateway } = rig;
  const acme = { authorization: 'Bearer acme-token' };
  const globex = { authorization: 'Bearer globex-token' };
  const run = randomUUID().slice(0, 8);
  const type = (name: string) => `${run}.${name}`;
  type Entry = { type: string; tenant?: string; first_seen_at: string; last_seen_at: string; sample: Record<string, unknown> };

  /** The catalogue as the caller sees it, once it holds `count` types of this run. */
  async function catalogue(headers: Record<string, string> | undefined, count: number): Promise<Entry[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await gateway.api('GET', '/v1/event-types', undefined, headers);
      expect(res.status).toBe(200);
      const mine = (res.body.data as Entry[]).filter((e) => e.type.startsWith(run));
      if (mine.length >= count || Date.now() > deadline) return mine;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    await rig.start();
    const events: [string | undefined, string, unknown][] = [
      ['acme', type('order.created'), { total: 12 }],
      ['acme', type('order.created'), { total: 13 }],
      ['acme', type('order.shipped'), { carrier: 'ups' }],
      ['globex', type('invoice.paid'), { amount: 40 }],
      [undefined, type('system.tick'), { n: 1 }],
      ['globex', type('blob.uploaded'), { blob: 'x'.repeat(8 * 1024) }],
    ];
    for (const [i, [tenant, t, data]] of events.entries()) {
      await rig.publisher.publish(rig.source, { id: `${run}-${i}`, type: t, source: '/catalogue-test', subject: `s-${i}`, tenant, data }, { headers: { 'x-record-secret': 'never-in-a-sample' } });
    }
  });

  afterAll(() => rig.stop());

  it('shows an operator every type, sorted by type, with a sample of the event and never its record headers', async () => {
    const all = await catalogue(undefined, 5);
    expect(all.map((e) => [e.type, e.tenant])).toEqual([
      [type('blob.uploaded'), 'globex'],
      [type('invoice.paid'), 'globex'],
      [type('order.created'), 'acme'],
      [type('order.shipped'), 'acme'],
      [type('system.tick'), undefined],
    ]);
    const shipped = all.find((e) => e.type === type('order.shipped'))!;
    expect(shipped.sample).toEqual({ id: `${run}-2`, source: '/catalogue-test', time: expect.any(String), subject: 's-2', data: { carrier: 'ups' } });
    expect(Date.parse(shipped.first_seen_at)).toBeLessThanOrEqual(Date.parse(shipped.last_seen_at));
    // The first event of a type is its sample: the second one of order.created came within 10 minutes.
    expect(all.find((e) => e.type === type('order.created'))!.sample).toMatchObject({ id: `${run}-0`, data: { total: 12 } });
    expect(JSON.stringify(all)).not.toContain('never-in-a-sample');
  });

  it('keeps only the size of an event over 4 KiB', async () => {
    const blob = (await catalogue(undefined, 5)).find((e) => e.type === type('blob.uploaded'))!;
    expect(blob.sample).toEqual({ truncated: true, bytes: expect.any(Number) });
    expect(blob.sample.bytes as number).toBeGreaterThan(8 * 1024);
  });

  it('shows a tenant token the types of its own tenant only', async () => {
    expect((await catalogue(acme, 2)).map((e) => [e.type, e.tenant])).toEqual([
      [type('order.created'), 'acme'],
      [type('order.shipped'), 'acme'],
    ]);
    expect((await catalogue(globex, 2)).map((e) => e.type)).toEqual([type('blob.uploaded'), type('invoice.paid')]);
  });

  it('honours limit, answers 400 naming it when out of range, and 401 without a token', async () => {
    const limited = await gateway.api('GET', '/v1/event-types?limit=1', undefined, acme);
    expect(limited.status).toBe(200);
    expect(limited.body.data).toHaveLength(1);
    for (const bad of ['0', '1001', 'x']) {
      const res = await gateway.api('GET', `/v1/event-types?limit=${bad}`);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toContain('limit');
    }
    expect((await gateway.api('GET', '/v1/event-types', undefined, {})).status).toBe(401);
  });

  it('lists the endpoint in the OpenAPI document', async () => {
    const openapi = (await (await fetch(await gateway.apiUrl('/docs-json'))).json()) as { paths: Record<string, { get?: { responses?: Record<string, unknown> } }> };
    expect(openapi.paths['/v1/event-types']?.get?.responses?.['200']).toBeDefined();
  });
});
