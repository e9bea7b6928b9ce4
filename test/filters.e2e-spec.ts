import type { AttemptResult } from '@app/contracts';
import { GatewayRig } from './support/rig.js';

/**
 * Filter operators end to end: subscriptions made through the API, events published to the real
 * broker (some with record headers), webhooks received by a real receiver on 127.0.0.1.
 */
describe('filters: operators, header matches and times', () => {
  const rig = new GatewayRig('filters', { TOPIC_PARTITIONS: '1' });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const TYPE = 'order.placed';

  // One subscription per operator, each at its own path. The marker event (last) matches them all.
  const subscriptions: Record<string, Record<string, unknown>> = {
    '/gt': { 'data.amount': { gt: 100 } },
    '/gte': { 'data.amount': { gte: 100 } },
    '/lt': { 'data.amount': { lt: 100 } },
    '/lte': { 'data.amount': { lte: 100 } },
    '/range': { 'data.amount': { gte: 100, lt: 1000 } },
    '/exists-true': { 'data.coupon': { exists: true } },
    '/exists-false': { 'data.voucher': { exists: false } },
    '/in': { 'data.region': { in: ['eu', 'US'] } },
    '/not': { 'data.env': { not: ['prod*'] } },
    '/header': { 'headers.X-Priority': { in: ['high', 'urgent'] } },
    '/header-number': { 'headers.x-level': { gte: 3 } },
    '/time': { time: { gte: '2026-06-01T00:00:00Z' } },
  };

  const events: { id: string; time: string; data: Record<string, unknown>; headers?: Record<string, string> }[] = [
    { id: 'e1', time: '2026-05-01T00:00:00Z', data: { amount: 150, voucher: 'V', region: 'ap', env: 'production' }, headers: { 'x-priority': 'low', 'x-level': '2' } },
    // 2026-06-01T00:00:00Z exactly, written with an offset.
    { id: 'e2', time: '2026-06-01T02:00:00+02:00', data: { amount: 100, coupon: 'C1', region: 'EU', env: 'staging' }, headers: { 'X-Priority': 'HIGH', 'X-Level': '3' } },
    { id: 'e3', time: '2026-05-31T23:59:59Z', data: { amount: 99.5, coupon: null, voucher: null, region: ['us', 'ap'], env: ['dev', 'prod-eu'] } },
    // Later than 2026-06-01T00:00 as text, earlier as an instant (2026-05-31T23:30Z).
    { id: 'e4', time: '2026-06-01T01:30:00+02:00', data: { coupon: '', region: 'sa' }, headers: { 'x-priority': 'urgent', 'x-level': 'high' } },
    { id: 'e5', time: '2026-01-01T00:00:00Z', data: { amount: '500', coupon: 'C5', voucher: 'V5', region: ['ap'], env: 'PROD' }, headers: { 'x-level': '10' } },
  ];
  const marker = {
    id: 'marker',
    time: '2026-07-01T00:00:00+02:00',
    data: { amount: [50, 500], coupon: 'M', region: 'eu', env: 'staging' },
    headers: { 'x-priority': 'high', 'x-level': '3.5' },
  };
  const expected: Record<string, string[]> = {
    '/gt': ['e1', 'e5'],
    '/gte': ['e1', 'e2', 'e5'],
    '/lt': ['e3'],
    '/lte': ['e2', 'e3'],
    '/range': ['e1', 'e2', 'e5'],
    '/exists-true': ['e2', 'e4', 'e5'],
    '/exists-false': ['e2', 'e3', 'e4'],
    '/in': ['e2', 'e3'],
    '/not': ['e2', 'e4'],
    '/header': ['e2', 'e4'],
    '/header-number': ['e2', 'e5'],
    '/time': ['e2'],
  };

  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it('delivers exactly the events each operator matches', async () => {
    const ids: Record<string, string> = {};
    for (const [path, filters] of Object.entries(subscriptions)) {
      const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [TYPE], filters });
      expect([path, res.status]).toEqual([path, 201]);
      expect(res.body.filters).toEqual(filters);
      ids[path] = res.body.id as string;
    }
    // The data carries the event's id as a label, since a standard body has no id of its own.
    for (const e of [...events, marker]) await publisher.publish(source, { id: e.id, type: TYPE, time: e.time, data: { ...e.data, label: e.id } }, { headers: e.headers });

    const paths = Object.keys(subscriptions);
    await receiver.waitFor((rs) => paths.every((path) => rs.some((r) => r.path === path && labelOf(r.body) === 'marker')), 60_000, 'the marker at every subscription');
    // The marker came last from the source partition; wait for an outcome of every delivery expected before it too.
    const want = Object.entries(expected).flatMap(([path, list]) => list.map((eventId) => `${ids[path]} ${eventId}`));
    await results.waitFor(() => {
      const done = new Set(results.records.map((r) => r.value as AttemptResult).map((r) => `${r.subscriptionId} ${r.eventId}`));
      return want.every((w) => done.has(w));
    }, 30_000);

    const got = Object.fromEntries(Object.keys(subscriptions).map((path) => [path, receiver.on(path).map((r) => labelOf(r.body)).sort()]));
    expect(got).toEqual(Object.fromEntries(Object.entries(expected).map(([path, list]) => [path, [...list, 'marker'].sort()])));
    // No subscription got an event twice, and no body carries the record's headers.
    for (const path of Object.keys(subscriptions)) {
      for (const r of receiver.on(path)) expect([path, r.body.includes('x-level') || r.body.includes('x-priority')]).toEqual([path, false]);
    }
  });

  it('refuses a bad operator with a 400 that names the field', async () => {
    const bad: [unknown, string][] = [
      [{ 'data.amount': { gt: '100' } }, 'filters.data.amount.gt must be a number or an RFC 3339 date-time'],
      [{ 'data.x': { foo: 1 } }, 'filters.data.x: unknown operator "foo" (gt, gte, lt, lte, exists, in, not)'],
      [{ 'data.x': { in: [] } }, 'filters.data.x.in must be a non-empty list'],
      [{ 'headers.x-a': { exists: 'yes' } }, 'filters.headers.x-a.exists must be true or false'],
    ];
    for (const [filters, message] of bad) {
      const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/bad'), events: [TYPE], filters });
      expect([res.status, messageOf(res.body)]).toEqual([400, expect.stringContaining(message)]);
    }
    const created = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/patched'), events: [TYPE] });
    const patched = await gateway.api('PATCH', `/v1/subscriptions/${created.body.id}`, { filters: { 'data.n': { lt: 1, gt: '2026-01-01T00:00:00Z' } } });
    expect([patched.status, messageOf(patched.body)]).toEqual([400, expect.stringContaining('filters.data.n: comparisons must all be numbers or all RFC 3339 date-times')]);
    const ok = await gateway.api('PATCH', `/v1/subscriptions/${created.body.id}`, { filters: { 'data.n': { lt: 1 }, 'data.env': ['prod*'] } });
    expect([ok.status, ok.body.filters]).toEqual([200, { 'data.n': { lt: 1 }, 'data.env': ['prod*'] }]);
  });

  it('describes both shapes of a filter in the OpenAPI document, for writes and views', async () => {
    const doc = (await (await fetch(await gateway.apiUrl('/docs-json'))).json()) as { components: { schemas: Record<string, { properties: Record<string, any> }> } };
    for (const schema of ['CreateSubscriptionDto', 'SubscriptionView']) {
      const [patterns, operators] = doc.components.schemas[schema]!.properties.filters.additionalProperties.oneOf;
      expect([schema, patterns.type, patterns.items.type]).toEqual([schema, 'array', 'string']);
      expect([schema, Object.keys(operators.properties)]).toEqual([schema, ['gt', 'gte', 'lt', 'lte', 'exists', 'in', 'not']]);
      expect(operators.properties.gt.oneOf).toEqual([{ type: 'number' }, { type: 'string', format: 'date-time' }]);
    }
  });
});

const messageOf = (body: { message?: string | string[] }) => [body.message].flat().join('\n');

/** The event id a test event's standard body carries in its data. */
function labelOf(body: string): string {
  return (JSON.parse(body) as { data: { label: string } }).data.label;
}
