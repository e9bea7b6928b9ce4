import type { FilterCondition, FilterOperators } from './condition.js';
import { type Matchable, SubscriptionIndex } from './subscription-index.js';

const sub = (id: string, events: string[], extra: Partial<Matchable> = {}): Matchable => ({ id, events, filters: {}, enabled: true, ...extra });
const ids = (subs: Matchable[]) => subs.map((s) => s.id).sort();

describe('SubscriptionIndex', () => {
  it('matches exact types, prefix.* patterns and the catch-all', () => {
    const index = new SubscriptionIndex<Matchable>();
    index.upsert(sub('exact', ['deployment.succeeded']));
    index.upsert(sub('prefix', ['deployment.*']));
    index.upsert(sub('deep', ['org.deployment.*']));
    index.upsert(sub('all', ['*']));
    index.upsert(sub('other', ['job.completed']));
    expect(ids(index.match({ type: 'deployment.succeeded' }))).toEqual(['all', 'exact', 'prefix']);
    expect(ids(index.match({ type: 'deployment.failed' }))).toEqual(['all', 'prefix']);
    expect(ids(index.match({ type: 'org.deployment.x.y' }))).toEqual(['all', 'deep']);
    expect(ids(index.match({ type: 'deployment' }))).toEqual(['all']);
  });

  it('returns a subscription once when several of its patterns match', () => {
    const index = new SubscriptionIndex<Matchable>();
    index.upsert(sub('s', ['deployment.succeeded', 'deployment.*', '*']));
    expect(ids(index.match({ type: 'deployment.succeeded' }))).toEqual(['s']);
  });

  it('never matches disabled subscriptions, but keeps them, and matches them again once enabled', () => {
    const index = new SubscriptionIndex<Matchable>();
    index.upsert(sub('off', ['*'], { enabled: false }));
    expect(index.match({ type: 'a' })).toEqual([]);
    expect(index.get('off')?.enabled).toBe(false);
    expect(index.size).toBe(1);
    index.upsert(sub('off', ['*'], { enabled: true }));
    expect(ids(index.match({ type: 'a' }))).toEqual(['off']);
    expect(index.remove('off')).toBe(true);
    expect(index.match({ type: 'a' })).toEqual([]);
  });

  it('scopes subscriptions with a tenant to that tenant', () => {
    const index = new SubscriptionIndex<Matchable>();
    index.upsert(sub('acme', ['*'], { tenant: 'acme' }));
    index.upsert(sub('global', ['*']));
    expect(ids(index.match({ type: 'a', tenant: 'acme' }))).toEqual(['acme', 'global']);
    expect(ids(index.match({ type: 'a', tenant: 'globex' }))).toEqual(['global']);
    expect(ids(index.match({ type: 'a' }))).toEqual(['global']);
  });

  it('requires every attribute filter, any of its patterns, case-insensitively with wildcards', () => {
    const index = new SubscriptionIndex<Matchable>();
    index.upsert(
      sub('qovery', ['deployment.*'], {
        filters: { 'data.environment.type': ['PRODUCTION', 'staging'], 'data.project.name': ['shop-*'] },
      }),
    );
    const event = (envType: string, project: unknown) => ({
      type: 'deployment.succeeded',
      data: { environment: { type: envType }, project: { name: project } },
    });
    expect(ids(index.match(event('production', 'Shop-Frontend')))).toEqual(['qovery']);
    expect(ids(index.match(event('STAGING', 'shop-'))).length).toBe(1);
    expect(index.match(event('PREVIEW', 'shop-api'))).toEqual([]);
    expect(index.match(event('PRODUCTION', 'my-shop'))).toEqual([]);
    expect(index.match(event('PRODUCTION', undefined))).toEqual([]);
    expect(index.match(event('PRODUCTION', { name: 'shop-x' }))).toEqual([]);
  });

  it('matches numbers, booleans and any element of an array', () => {
    const index = new SubscriptionIndex<Matchable>();
    index.upsert(sub('n', ['*'], { filters: { 'data.code': ['4*'], 'data.tags': ['blue'] } }));
    expect(index.match({ type: 'x', data: { code: 404, tags: ['red', 'Blue'] } } as never)).toHaveLength(1);
    expect(index.match({ type: 'x', data: { code: 500, tags: ['blue'] } } as never)).toHaveLength(0);
  });

  it('treats regex characters in patterns literally', () => {
    const index = new SubscriptionIndex<Matchable>();
    index.upsert(sub('r', ['*'], { filters: { 'data.v': ['a.b*(c)'] } }));
    expect(index.match({ type: 'x', data: { v: 'a.bzz(c)' } } as never)).toHaveLength(1);
    expect(index.match({ type: 'x', data: { v: 'aXbzz(c)' } } as never)).toHaveLength(0);
  });

  it('replaces on upsert and forgets on remove', () => {
    const index = new SubscriptionIndex<Matchable>();
    index.upsert(sub('s', ['a'], { tenant: 't1' }));
    index.upsert(sub('s', ['b'], { tenant: 't2' }));
    expect(index.size).toBe(1);
    expect(index.match({ type: 'a', tenant: 't1' })).toEqual([]);
    expect(ids(index.match({ type: 'b', tenant: 't2' }))).toEqual(['s']);
    expect(index.remove('s')).toBe(true);
    expect(index.match({ type: 'b', tenant: 't2' })).toEqual([]);
    expect(index.remove('s')).toBe(false);
    expect(index.size).toBe(0);
  });

  it('files subscriptions under a literal filter value or an in list, visiting only those an event carries, and agrees with a full scan', () => {
    const index = new SubscriptionIndex<Matchable>();
    const subs: Matchable[] = [];
    const operators = (i: number): Record<string, FilterCondition> => {
      switch (i % 6) {
        case 0:
          return { 'data.ep': { in: [`EP-${i}`, `ep-${i + 1}`] }, 'data.amount': { gte: i % 50, lt: (i % 50) + 30 } };
        case 1:
          return { 'data.amount': { gt: i % 70 }, 'data.coupon': { exists: i % 4 === 1 } };
        case 2:
          return { 'data.ep': { in: [`ep-${i}`], not: ['ep-1*'] }, 'data.env': { not: ['prod*'] } };
        case 3:
          return { 'headers.x-region': { in: ['eu', i % 4 === 3 ? 'us' : 'ap'] }, time: { lte: `2026-01-0${(i % 9) + 1}T00:00:00Z` } };
        case 4:
          return { 'data.tags': { not: { in: [`t${i % 5}`] } }, 'headers.X-Priority': { gte: i % 3 } };
        default:
          return { 'data.amount': { not: { gt: 60 } }, 'data.ep': [`ep-${i % 20}*`] };
      }
    };
    for (let i = 0; i < 300; i++) {
      const filters: Record<string, FilterCondition> =
        i >= 200
          ? operators(i)
          : i % 4 === 0
            ? { 'data.ep': [`EP-${i}`, `ep-${i + 1}`] }
            : i % 4 === 1
              ? { 'data.ep': [`ep-${i}*`] }
              : i % 4 === 2
                ? { 'data.ep': [`ep-${i}`], 'data.env': ['prod*'] }
                : {};
      subs.push(sub(`s${i}`, [i % 3 === 0 ? 'order.*' : i % 3 === 1 ? 'order.created' : '*'], { filters }));
    }
    for (const s of subs) index.upsert(s);
    // Replaced and removed subscriptions leave no trace in the literal buckets.
    index.upsert(sub('s8', ['order.created'], { filters: { 'data.ep': ['moved'] } }));
    index.upsert(sub('s204', ['order.created'], { filters: { 'data.ep': { in: ['moved-too'] } } }));
    index.remove('s12');
    index.remove('s206');
    const current = [
      ...subs.filter((s) => !['s8', 's12', 's204', 's206'].includes(s.id)),
      sub('s8', ['order.created'], { filters: { 'data.ep': ['moved'] } }),
      sub('s204', ['order.created'], { filters: { 'data.ep': { in: ['moved-too'] } } }),
    ];
    // A naive reference: no compiled matchers, no index.
    const glob = (p: string, v: unknown) => ['string', 'number', 'boolean'].includes(typeof v) && new RegExp(`^${p.toLowerCase().replaceAll('*', '.*')}$`).test(String(v).toLowerCase());
    const holds = (value: unknown, c: FilterCondition): boolean => {
      const all = Array.isArray(value) ? value : [value];
      if (Array.isArray(c)) return all.some((v) => c.some((p: string) => glob(p, v)));
      const o = c as FilterOperators;
      if (o.exists !== undefined && all.some((v) => v !== undefined && v !== null) !== o.exists) return false;
      if (o.not !== undefined && holds(value, o.not)) return false;
      const num = (v: unknown, bound: number | string) => (typeof bound === 'number' ? (typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'number' ? v : NaN) : typeof v === 'string' ? Date.parse(v) : NaN);
      const bound = (b: number | string) => (typeof b === 'number' ? b : Date.parse(b));
      const element = (v: unknown) =>
        (o.gt === undefined || num(v, o.gt) > bound(o.gt)) &&
        (o.gte === undefined || num(v, o.gte) >= bound(o.gte)) &&
        (o.lt === undefined || num(v, o.lt) < bound(o.lt)) &&
        (o.lte === undefined || num(v, o.lte) <= bound(o.lte)) &&
        (o.in === undefined || o.in.some((x) => ['string', 'number', 'boolean'].includes(typeof v) && String(x).toLowerCase() === String(v).toLowerCase()));
      const perElement = ['gt', 'gte', 'lt', 'lte', 'in'].some((k) => k in o);
      return !perElement || all.some(element);
    };
    const at = (event: Record<string, unknown>, path: string): unknown =>
      path.startsWith('headers.') ? (event.headers as Record<string, string>)[path.slice(8).toLowerCase()] : path.split('.').reduce<unknown>((n, k) => (n as Record<string, unknown> | undefined)?.[k], event);
    const scan = (event: { type: string } & Record<string, unknown>) =>
      current
        .filter((s) => s.events.some((p) => p === '*' || p === event.type || (p.endsWith('.*') && event.type.startsWith(p.slice(0, -1)))))
        .filter((s) => Object.entries(s.filters).every(([path, condition]) => holds(at(event, path), condition)))
        .map((s) => s.id)
        .sort();
    let compared = 0;
    let matched = 0;
    for (const ep of ['ep-0', 'EP-1', 'ep-2', 'ep-5', 'ep-50', 'ep-13', 'ep-12', 'moved', 'moved-too', 'ep-8', 'ep-204', 'ep-210', 'ep-226', 'none']) {
      for (const env of ['prod-eu', 'staging']) {
        for (const [amount, coupon, tags] of [[5, undefined, ['t0', 't1']], [35, 'X', []], ['65', null, 't3'], [undefined, 'Y', ['t2', null]]] as const) {
          for (const headers of [{ 'x-region': 'EU', 'x-priority': '2' }, { 'x-region': 'ap', 'x-priority': 'high' }, {}]) {
            const time = env === 'staging' ? '2026-01-04T12:00:00+02:00' : '2026-01-01T00:00:00Z';
            const event = { type: 'order.created', time, headers, data: { ep, env, amount, coupon, tags } };
            const expected = scan(event);
            expect([event, ids(index.match(event))]).toEqual([event, expected]);
            compared++;
            matched += expected.length;
          }
        }
      }
    }
    // The comparison is not vacuous: the events match many subscriptions, with operators among them.
    expect(compared).toBe(336);
    expect(matched).toBeGreaterThan(compared);
    expect(current.filter((s) => index.match({ type: 'order.created', time: '2026-01-01T00:00:00Z', headers: { 'x-region': 'eu', 'x-priority': '1' }, data: { ep: 'ep-2', amount: 10, tags: [] } } as never).some((m) => m.id === s.id) && Number(s.id.slice(1)) >= 200).length).toBeGreaterThan(0);
  });
});
