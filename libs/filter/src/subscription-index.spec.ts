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

  it('files subscriptions under a literal filter value, visiting only those an event carries, and agrees with a full scan', () => {
    const index = new SubscriptionIndex<Matchable>();
    const subs: Matchable[] = [];
    for (let i = 0; i < 200; i++) {
      const filters: Record<string, string[]> =
        i % 4 === 0 ? { 'data.ep': [`EP-${i}`, `ep-${i + 1}`] } : i % 4 === 1 ? { 'data.ep': [`ep-${i}*`] } : i % 4 === 2 ? { 'data.ep': [`ep-${i}`], 'data.env': ['prod*'] } : {};
      subs.push(sub(`s${i}`, [i % 3 === 0 ? 'order.*' : i % 3 === 1 ? 'order.created' : '*'], { filters }));
    }
    for (const s of subs) index.upsert(s);
    // Replaced and removed subscriptions leave no trace in the literal buckets.
    index.upsert(sub('s8', ['order.created'], { filters: { 'data.ep': ['moved'] } }));
    index.remove('s12');
    const current = [...subs.filter((s) => s.id !== 's8' && s.id !== 's12'), sub('s8', ['order.created'], { filters: { 'data.ep': ['moved'] } })];
    const scan = (event: { type: string; data: Record<string, unknown> }) =>
      current
        .filter((s) => s.events.some((p) => p === '*' || p === event.type || (p.endsWith('.*') && event.type.startsWith(p.slice(0, -1)))))
        .filter((s) =>
          Object.entries(s.filters).every(([path, patterns]) => {
            const value = String(event.data[path.split('.')[1]!] ?? '').toLowerCase();
            return patterns.some((p) => new RegExp(`^${p.toLowerCase().replaceAll('*', '.*')}$`).test(value));
          }),
        )
        .map((s) => s.id)
        .sort();
    for (const ep of ['ep-0', 'EP-1', 'ep-2', 'ep-5', 'ep-50', 'ep-13', 'ep-12', 'moved', 'ep-8', 'none']) {
      for (const env of ['prod-eu', 'staging']) {
        const event = { type: 'order.created', data: { ep, env } };
        expect([ep, env, ids(index.match(event))]).toEqual([ep, env, scan(event)]);
      }
    }
  });
});
