import { type FilterCondition, filterConditionProblem } from './condition.js';
import { type Matchable, SubscriptionIndex } from './subscription-index.js';

/** Whether a subscription with `filters` matches `event` (built through the index, as the producer does). */
function matches(filters: Record<string, FilterCondition>, event: Record<string, unknown>): boolean {
  const index = new SubscriptionIndex<Matchable>();
  index.upsert({ id: 's', events: ['*'], filters, enabled: true });
  return index.match({ type: 'x', ...event }).length === 1;
}
const data = (d: Record<string, unknown>) => ({ data: d });

describe('filter operators', () => {
  it('gt, gte, lt, lte compare numbers, and decimal strings as numbers', () => {
    expect(matches({ 'data.n': { gt: 10 } }, data({ n: 11 }))).toBe(true);
    expect(matches({ 'data.n': { gt: 10 } }, data({ n: 10 }))).toBe(false);
    expect(matches({ 'data.n': { gte: 10 } }, data({ n: 10 }))).toBe(true);
    expect(matches({ 'data.n': { gte: 10 } }, data({ n: 9.99 }))).toBe(false);
    expect(matches({ 'data.n': { lt: 0 } }, data({ n: -1 }))).toBe(true);
    expect(matches({ 'data.n': { lt: 0 } }, data({ n: 0 }))).toBe(false);
    expect(matches({ 'data.n': { lte: 5 } }, data({ n: 5 }))).toBe(true);
    expect(matches({ 'data.n': { lte: 5 } }, data({ n: 6 }))).toBe(false);
    expect(matches({ 'data.n': { gt: 10 } }, data({ n: '12.5' }))).toBe(true);
    expect(matches({ 'data.n': { gt: 10 } }, data({ n: '9' }))).toBe(false);
  });

  it('a range needs one value inside it: all operators of a path hold together', () => {
    const range = { 'data.n': { gte: 100, lt: 1000 } };
    expect(matches(range, data({ n: 100 }))).toBe(true);
    expect(matches(range, data({ n: 1000 }))).toBe(false);
    expect(matches(range, data({ n: 99 }))).toBe(false);
    // Arrays: one element must be in the range, not one above the floor and another under the ceiling.
    expect(matches(range, data({ n: [5, 500] }))).toBe(true);
    expect(matches(range, data({ n: [5, 5000] }))).toBe(false);
  });

  it('comparisons fail on absent and not comparable values', () => {
    for (const n of [undefined, null, 'ten', '', true, { v: 11 }, [], '2026-01-01T00:00:00Z']) {
      expect([n, matches({ 'data.n': { gt: 1 } }, data({ n }))]).toEqual([n, false]);
      expect([n, matches({ 'data.n': { lt: 1e9 } }, data({ n }))]).toEqual([n, false]);
    }
  });

  it('compares RFC 3339 date-times as instants, whatever their offset', () => {
    const since = { time: { gte: '2026-01-01T00:00:00Z' } };
    expect(matches(since, { time: '2026-01-01T00:00:00Z' })).toBe(true);
    expect(matches(since, { time: '2026-01-01T01:30:00+02:00' })).toBe(false); // 2025-12-31T23:30Z
    expect(matches(since, { time: '2025-12-31T20:00:00-05:00' })).toBe(true); // 2026-01-01T01:00Z
    expect(matches(since, { time: '2025-12-31T23:59:59.999Z' })).toBe(false);
    expect(matches({ 'data.at': { lt: '2026-06-01T00:00:00.000+00:00' } }, data({ at: ['2027-01-01T00:00:00Z', '2026-05-31T23:00:00Z'] }))).toBe(true);
    // Not a date-time: not comparable, so no match either way.
    for (const at of ['2026-01-01', 'yesterday', 1767225600000, undefined]) {
      expect([at, matches({ 'data.at': { gt: '2000-01-01T00:00:00Z' } }, data({ at }))]).toEqual([at, false]);
      expect([at, matches({ 'data.at': { lt: '2100-01-01T00:00:00Z' } }, data({ at }))]).toEqual([at, false]);
    }
  });

  it('exists: true needs a value other than null; false needs none; arrays count by their elements', () => {
    const has = { 'data.c': { exists: true } };
    const hasNot = { 'data.c': { exists: false } };
    for (const c of ['', 0, false, 'x', { a: 1 }, ['x'], [null, 'x']]) {
      expect([c, matches(has, data({ c })), matches(hasNot, data({ c }))]).toEqual([c, true, false]);
    }
    for (const c of [undefined, null, [], [null]]) {
      expect([c, matches(has, data({ c })), matches(hasNot, data({ c }))]).toEqual([c, false, true]);
    }
    expect(matches(hasNot, { data: null })).toBe(true);
    // Inherited properties are not values: `constructor` is absent from an event's data.
    expect(matches({ 'data.constructor': { exists: false } }, data({}))).toBe(true);
  });

  it('in: strings case-insensitively, numbers and booleans by value, no wildcards, any element of an array', () => {
    const region = { 'data.r': { in: ['eu', 'US'] } };
    expect(matches(region, data({ r: 'EU' }))).toBe(true);
    expect(matches(region, data({ r: 'us' }))).toBe(true);
    expect(matches(region, data({ r: 'ap' }))).toBe(false);
    expect(matches(region, data({ r: ['ap', 'eu'] }))).toBe(true);
    expect(matches(region, data({ r: ['ap'] }))).toBe(false);
    expect(matches(region, data({}))).toBe(false);
    expect(matches({ 'data.r': { in: ['e*'] } }, data({ r: 'eu' }))).toBe(false);
    expect(matches({ 'data.r': { in: ['e*'] } }, data({ r: 'e*' }))).toBe(true);
    expect(matches({ 'data.n': { in: [1.5, 2] } }, data({ n: 1.5 }))).toBe(true);
    expect(matches({ 'data.n': { in: [1.5, 2] } }, data({ n: 3 }))).toBe(false);
    expect(matches({ 'data.b': { in: [true] } }, data({ b: true }))).toBe(true);
    expect(matches({ 'data.b': { in: [true] } }, data({ b: false }))).toBe(false);
  });

  it('not negates a pattern list or an operator object; an absent value satisfies it; on arrays, no element may match', () => {
    const notProd = { 'data.env': { not: ['prod*'] } };
    expect(matches(notProd, data({ env: 'staging' }))).toBe(true);
    expect(matches(notProd, data({ env: 'PRODUCTION' }))).toBe(false);
    expect(matches(notProd, data({}))).toBe(true);
    expect(matches(notProd, data({ env: ['staging', 'dev'] }))).toBe(true);
    expect(matches(notProd, data({ env: ['staging', 'prod-eu'] }))).toBe(false);
    const notBig = { 'data.n': { not: { gt: 100 } } };
    expect(matches(notBig, data({ n: 100 }))).toBe(true);
    expect(matches(notBig, data({ n: 101 }))).toBe(false);
    expect(matches(notBig, data({}))).toBe(true);
    expect(matches({ 'data.r': { not: { in: ['eu'] }, exists: true } }, data({ r: 'us' }))).toBe(true);
    expect(matches({ 'data.r': { not: { in: ['eu'] }, exists: true } }, data({}))).toBe(false);
  });

  it('matches headers.<name> with every operator, the name case-insensitively', () => {
    const event = { headers: { 'x-priority': '7', 'x-region': 'eu', 'ce_source': 'billing' } };
    expect(matches({ 'headers.X-Priority': { gte: 5 } }, event)).toBe(true);
    expect(matches({ 'headers.x-priority': { lt: 5 } }, event)).toBe(false);
    expect(matches({ 'headers.x-region': ['E*'] }, event)).toBe(true);
    expect(matches({ 'headers.x-region': { in: ['us'] } }, event)).toBe(false);
    expect(matches({ 'headers.ce_source': { exists: true } }, event)).toBe(true);
    expect(matches({ 'headers.x-missing': { exists: false } }, event)).toBe(true);
    expect(matches({ 'headers.x-missing': { exists: true } }, {})).toBe(false);
    expect(matches({ 'headers.x-region': { not: ['eu'] } }, event)).toBe(false);
  });

  it('keeps today\'s pattern lists meaning the same beside operators (every path must match)', () => {
    const filters = { 'data.env': ['PROD*'], 'data.n': { gt: 1 } };
    expect(matches(filters, data({ env: 'production', n: 2 }))).toBe(true);
    expect(matches(filters, data({ env: 'production', n: 1 }))).toBe(false);
    expect(matches(filters, data({ env: 'staging', n: 2 }))).toBe(false);
  });

  it('files a subscription under its in list: an event without one of the values never visits it', () => {
    const index = new SubscriptionIndex<Matchable>();
    const filters = { 'data.r': { in: ['eu', 'us'], not: ['us'] } };
    index.upsert({ id: 'in', events: ['*'], filters, enabled: true });
    const bucket = (index as unknown as { byTenant: Map<string, { catchAll: { plain: unknown[]; byLiteral: Map<string, { values: Map<string, unknown[]> }> } }> }).byTenant
      .get('')!.catchAll;
    expect(bucket.plain).toHaveLength(0);
    expect([...bucket.byLiteral.get('data.r')!.values.keys()].sort()).toEqual(['eu', 'us']);
    expect(index.match({ type: 'x', data: { r: 'EU' } } as never)).toHaveLength(1);
    expect(index.match({ type: 'x', data: { r: 'us' } } as never)).toHaveLength(0);
  });
});

describe('filterConditionProblem', () => {
  it('accepts pattern lists and operator objects', () => {
    for (const c of [['a', 'b*'], { gt: 1, lte: 2.5 }, { gte: '2026-01-01T00:00:00Z', lt: '2026-02-01T00:00:00.5+01:00' }, { exists: false }, { in: ['a', 1, true] }, { not: ['prod*'] }, { not: { in: ['x'] }, exists: true }]) {
      expect([c, filterConditionProblem('data.x', c)]).toEqual([c, null]);
    }
  });

  it('names the field and says what is wrong', () => {
    const cases: [unknown, string][] = [
      [[], '.data.x must be a non-empty list of patterns'],
      [Array(101).fill('a'), '.data.x must have at most 100 patterns'],
      [[''], '.data.x patterns must be strings of 1 to 200 characters'],
      ['a', '.data.x must be a non-empty list of patterns or an object of operators (gt, gte, lt, lte, exists, in, not)'],
      [{}, '.data.x must have at least one operator (gt, gte, lt, lte, exists, in, not)'],
      [{ foo: 1 }, '.data.x: unknown operator "foo" (gt, gte, lt, lte, exists, in, not)'],
      [{ gt: '100' }, '.data.x.gt must be a number or an RFC 3339 date-time'],
      [{ lte: '2026-01-01' }, '.data.x.lte must be a number or an RFC 3339 date-time'],
      [{ gt: 1, lt: '2026-01-01T00:00:00Z' }, '.data.x: comparisons must all be numbers or all RFC 3339 date-times'],
      [{ exists: 'yes' }, '.data.x.exists must be true or false'],
      [{ in: [] }, '.data.x.in must be a non-empty list of at most 100 strings (1 to 200 characters), numbers or booleans'],
      [{ in: [null] }, '.data.x.in must be a non-empty list of at most 100 strings (1 to 200 characters), numbers or booleans'],
      [{ not: [] }, '.data.x.not must be a non-empty list of patterns'],
      [{ not: { gt: 'x' } }, '.data.x.not.gt must be a number or an RFC 3339 date-time'],
      [{ not: { not: ['a'] } }, '.data.x.not.not cannot be nested in not'],
    ];
    for (const [condition, message] of cases) expect([condition, filterConditionProblem('data.x', condition)]).toEqual([condition, message]);
  });
});
