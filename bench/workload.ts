/**
 * Deterministic workload for the filter benchmark: a vocabulary of event
 * types, tenants and attribute values; a realistic mix of subscriptions; and a
 * stream of events drawn from the same vocabulary.
 */
import { type FilterCondition, type FilterOperators, type Matchable, type MatchableEvent } from '../libs/filter/src/index.js';
import { Prng } from './prng.js';

// 25 domains × 10 entities × 8 actions = 2,000 event types (`deployment.status.succeeded`).
const DOMAINS = [
  'deployment', 'environment', 'application', 'container', 'database', 'job', 'cluster', 'service', 'build',
  'pipeline', 'billing', 'invoice', 'payment', 'user', 'organization', 'project', 'member', 'token', 'webhook',
  'alert', 'incident', 'backup', 'domain', 'certificate', 'storage',
] as const;
const ENTITIES = ['lifecycle', 'config', 'status', 'resource', 'schedule', 'quota', 'access', 'version', 'log', 'metric'] as const;
const ACTIONS = ['created', 'updated', 'deleted', 'started', 'succeeded', 'failed', 'canceled', 'queued'] as const;

const ENV_TYPES = ['PRODUCTION', 'STAGING', 'DEVELOPMENT', 'PREVIEW'] as const;
const ENV_WEIGHTS = { PRODUCTION: 40, STAGING: 25, DEVELOPMENT: 20, PREVIEW: 15 } as const;
const TEAMS = [
  'shop', 'billing', 'search', 'auth', 'infra', 'data', 'mobile', 'web', 'ads', 'ml',
  'payments', 'catalog', 'checkout', 'growth', 'support', 'media', 'maps', 'chat', 'mail', 'ops',
] as const;
const APPS = ['api', 'frontend', 'worker', 'db', 'cron', 'gateway', 'admin', 'ingest', 'export', 'cache'] as const;
const REGIONS = [
  'eu-west-1', 'eu-west-3', 'eu-central-1', 'us-east-1', 'us-east-2', 'us-west-2', 'ap-south-1', 'ap-northeast-1', 'sa-east-1', 'ca-central-1',
] as const;
const CONTINENTS = ['eu', 'us', 'ap', 'sa', 'ca'] as const;

export const TENANT_COUNT = 5_000;
export const EVENT_TYPES: readonly string[] = DOMAINS.flatMap((d) => ENTITIES.flatMap((e) => ACTIONS.map((a) => `${d}.${e}.${a}`)));
const PROJECTS: readonly string[] = TEAMS.flatMap((t) => APPS.map((a) => `${t}-${a}`));
const TENANTS: readonly string[] = Array.from({ length: TENANT_COUNT }, (_, i) => `tenant-${String(i).padStart(4, '0')}`);

/** The subscription mix (probabilities; `kinds` are weights). Override with `--mix='{"withTenant":0.98}'`. */
export const DEFAULT_MIX = {
  /** Type-pattern kinds. `mixed` = one prefix plus 1–2 exact types of other domains. */
  kinds: { exact: 60, prefix: 25, catchAll: 2, mixed: 13 },
  /** Share of `exact` subscriptions listing 2–3 exact types instead of one. */
  multiExact: 0.15,
  /** Share of `prefix` subscriptions that also list an exact type under their prefix (exercises de-duplication). */
  prefixOverlap: 0.2,
  /** Share of prefixes at domain level (`deployment.*`); the rest are `deployment.status.*`. */
  domainPrefix: 0.4,
  withTenant: 0.5,
  withFilters: 0.4,
  /** Among subscriptions with filters, share with two keys (the rest have one). */
  twoFilterKeys: 0.3,
  disabled: 0.05,
  /**
   * Among filter conditions, share written with operators (ranges, in, exists, not, header
   * and time matches) instead of patterns; 0 leaves the stream of subscriptions as it was.
   */
  withOperators: 0,
};

export type Mix = typeof DEFAULT_MIX;

/** DEFAULT_MIX with the given fields replaced (`kinds` merged key by key). */
export function mixWith(overrides: Partial<Omit<Mix, 'kinds'>> & { kinds?: Partial<Mix['kinds']> }): Mix {
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_MIX)) throw new Error(`unknown mix field ${key}`);
    if (key !== 'kinds' && typeof value !== 'number') throw new Error(`mix field ${key} must be a number`);
  }
  return { ...DEFAULT_MIX, ...overrides, kinds: { ...DEFAULT_MIX.kinds, ...overrides.kinds } };
}

/** Share of events carrying a tenant (uniform over the same tenants). */
export const EVENT_TENANT_SHARE = 0.9;

export type Kind = keyof Mix['kinds'];

export interface BenchSubscription extends Matchable {
  kind: Kind;
}

export interface BenchEvent extends MatchableEvent {
  id: string;
  source: string;
  time: string;
  data: { environment: { type: string }; project: { name: string; id: string }; region?: string; revision: number };
  /** The source record's headers, as the event reader keeps them. */
  headers: Record<string, string>;
  cloudevent: boolean;
}

type FilterKey = 'data.environment.type' | 'data.project.name' | 'data.region' | 'source';
const FILTER_KEYS: readonly FilterKey[] = ['data.environment.type', 'data.project.name', 'data.region', 'source'];

function filterPatterns(rng: Prng, key: FilterKey): string[] {
  switch (key) {
    case 'data.environment.type':
      return rng.sample(ENV_TYPES, rng.between(1, 2));
    case 'data.project.name':
      // Exact project names or a team wildcard (`shop-*`).
      return Array.from({ length: rng.between(1, 2) }, () => (rng.chance(0.5) ? rng.pick(PROJECTS) : `${rng.pick(TEAMS)}-*`));
    case 'data.region':
      return [rng.chance(0.5) ? rng.pick(REGIONS) : `${rng.pick(CONTINENTS)}-*`];
    case 'source':
      // A wildcard in the middle: compiled to a regular expression.
      return [`*/teams/${rng.pick(TEAMS)}/*`];
  }
}

const PRIORITIES = ['high', 'normal', 'low'] as const;
const EPOCH = Date.UTC(2025, 0, 1);

/** A condition with operators, the way users write them: ranges, in lists, exists, not, headers, times. */
function operatorFilter(rng: Prng): [string, FilterOperators] {
  const r = rng.int(100);
  if (r < 25) {
    const from = rng.int(900);
    return ['data.revision', { gte: from, lt: from + rng.between(50, 300) }];
  }
  if (r < 45) return ['data.region', { in: rng.sample(REGIONS, rng.between(1, 3)) }];
  if (r < 55) return ['data.region', { exists: rng.chance(0.5) }];
  if (r < 70) return ['data.environment.type', { not: [rng.chance(0.5) ? 'PROD*' : rng.pick(ENV_TYPES)] }];
  if (r < 85) return ['headers.x-priority', rng.chance(0.5) ? { in: rng.sample(PRIORITIES, rng.between(1, 2)) } : { not: { in: ['low'] } }];
  return ['time', { gte: new Date(EPOCH + rng.int(100_000) * 1000).toISOString() }];
}

function prefixPattern(rng: Prng, mix: Mix): string {
  const domain = rng.pick(DOMAINS);
  return rng.chance(mix.domainPrefix) ? `${domain}.*` : `${domain}.${rng.pick(ENTITIES)}.*`;
}

function typePatterns(rng: Prng, kind: Kind, mix: Mix): string[] {
  switch (kind) {
    case 'exact':
      return rng.chance(mix.multiExact) ? rng.sample(EVENT_TYPES, rng.between(2, 3)) : [rng.pick(EVENT_TYPES)];
    case 'prefix': {
      const prefix = prefixPattern(rng, mix);
      if (!rng.chance(mix.prefixOverlap)) return [prefix];
      const under = EVENT_TYPES.filter((t) => t.startsWith(prefix.slice(0, -1)));
      return [prefix, rng.pick(under)];
    }
    case 'catchAll':
      return ['*'];
    case 'mixed': {
      const prefix = prefixPattern(rng, mix);
      const others = Array.from({ length: rng.between(1, 2) }, () => rng.pick(EVENT_TYPES)).filter((t) => !t.startsWith(prefix.slice(0, -1)));
      return [prefix, ...others];
    }
  }
}

/**
 * `count` subscriptions. Generation is sequential from one seed, so the first
 * 10,000 of a 100,000 run are exactly the 10,000 of a 10,000 run.
 */
export function generateSubscriptions(count: number, seed: number, mix: Mix = DEFAULT_MIX): BenchSubscription[] {
  const rng = new Prng(seed);
  const subs: BenchSubscription[] = [];
  for (let i = 0; i < count; i++) {
    const kind = rng.weighted(mix.kinds);
    const events = typePatterns(rng, kind, mix);
    const filters: Record<string, FilterCondition> = {};
    if (rng.chance(mix.withFilters)) {
      for (const key of rng.sample(FILTER_KEYS, rng.chance(mix.twoFilterKeys) ? 2 : 1)) {
        // Drawn only with operators in the mix, so the default stream stays as it was.
        if (mix.withOperators > 0 && rng.chance(mix.withOperators)) {
          const [path, condition] = operatorFilter(rng);
          filters[path] = condition;
        } else filters[key] = filterPatterns(rng, key);
      }
    }
    const tenant = rng.chance(mix.withTenant) ? rng.pick(TENANTS) : undefined;
    const enabled = !rng.chance(mix.disabled);
    subs.push({ id: `sub-${i}`, kind, events, filters, enabled, ...(tenant === undefined ? {} : { tenant }) });
  }
  return subs;
}

/** Spells an attribute value in a random case, since filters are case-insensitive. */
function anyCase(rng: Prng, value: string): string {
  const r = rng.int(3);
  return r === 0 ? value : r === 1 ? value.toLowerCase() : value[0] + value.slice(1).toLowerCase();
}

/** `count` events shaped like the gateway's normalised GatewayEvent. */
export function generateEvents(count: number, seed: number): BenchEvent[] {
  const rng = new Prng(seed);
  // Headers come from a stream of their own, so the events' other fields stay as they were.
  const headerRng = new Prng(seed ^ 0x4ead);
  const events: BenchEvent[] = [];
  const epoch = EPOCH;
  for (let i = 0; i < count; i++) {
    const team = rng.pick(TEAMS);
    const project = `${team}-${rng.pick(APPS)}`;
    const tenant = rng.chance(EVENT_TENANT_SHARE) ? rng.pick(TENANTS) : undefined;
    events.push({
      id: `evt-${i}`,
      type: rng.pick(EVENT_TYPES),
      source: `//gateway.example.com/teams/${team}/projects/${project}`,
      time: new Date(epoch + i * 1000).toISOString(),
      ...(tenant === undefined ? {} : { tenant }),
      data: {
        environment: { type: anyCase(rng, rng.weighted(ENV_WEIGHTS)) },
        project: { name: project, id: `prj-${rng.int(1_000_000)}` },
        ...(rng.chance(0.9) ? { region: rng.pick(REGIONS) } : {}),
        revision: rng.int(1000),
      },
      headers: headerRng.chance(0.8) ? { 'x-priority': headerRng.pick(PRIORITIES), 'content-type': 'application/json' } : { 'content-type': 'application/json' },
      cloudevent: false,
    });
  }
  return events;
}

// --- An independent, deliberately naive reference matcher (no regexes, no index) ---

/** Case-insensitive glob match with `*`, by two pointers with backtracking. */
function glob(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && p[pi] !== '*' && p[pi] === v[vi]) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star !== -1) {
      pi = star + 1;
      vi = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

function valueOk(value: unknown, patterns: readonly string[]): boolean {
  if (Array.isArray(value)) return value.some((v) => valueOk(v, patterns));
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
  return patterns.some((p) => glob(p, String(value)));
}

/** Operators, spelt out: one element satisfies every comparison and `in`; `exists` and `not` look at the whole value. */
function operatorsOk(value: unknown, ops: FilterOperators): boolean {
  const elements: unknown[] = Array.isArray(value) ? value : [value];
  if (ops.exists !== undefined && elements.some((e) => e !== undefined && e !== null) !== ops.exists) return false;
  if (ops.not !== undefined && conditionOk(value, ops.not)) return false;
  const comparable = (e: unknown, bound: number | string): [number, number] =>
    typeof bound === 'number'
      ? [typeof e === 'number' ? e : typeof e === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(e) ? Number(e) : NaN, bound]
      : [typeof e === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(e) ? new Date(e.toUpperCase()).getTime() : NaN, new Date(bound).getTime()];
  const one = (e: unknown): boolean => {
    if (ops.gt !== undefined && !(([a, b]) => a > b)(comparable(e, ops.gt))) return false;
    if (ops.gte !== undefined && !(([a, b]) => a >= b)(comparable(e, ops.gte))) return false;
    if (ops.lt !== undefined && !(([a, b]) => a < b)(comparable(e, ops.lt))) return false;
    if (ops.lte !== undefined && !(([a, b]) => a <= b)(comparable(e, ops.lte))) return false;
    if (ops.in !== undefined && !((typeof e === 'string' || typeof e === 'number' || typeof e === 'boolean') && ops.in.some((x) => String(x).toLowerCase() === String(e).toLowerCase()))) return false;
    return true;
  };
  const perElement = ops.gt !== undefined || ops.gte !== undefined || ops.lt !== undefined || ops.lte !== undefined || ops.in !== undefined;
  return !perElement || elements.some(one);
}

function conditionOk(value: unknown, condition: FilterCondition): boolean {
  return Array.isArray(condition) ? valueOk(value, condition as readonly string[]) : operatorsOk(value, condition as FilterOperators);
}

/** Number of the subscription's type patterns that match `type` (0 = not a candidate). */
export function typeHits(sub: Matchable, type: string): number {
  let hits = 0;
  for (const p of new Set(sub.events)) {
    if (p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1)))) hits++;
  }
  return hits;
}

export function tenantOk(sub: Matchable, event: MatchableEvent): boolean {
  return sub.tenant === undefined || sub.tenant === event.tenant;
}

export function filtersOk(sub: Matchable, event: MatchableEvent): boolean {
  return Object.entries(sub.filters).every(([path, condition]) => {
    let node: unknown = event;
    const keys = path.startsWith('headers.') ? ['headers', path.slice('headers.'.length).toLowerCase()] : path.split('.');
    for (const key of keys) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    return conditionOk(node, condition);
  });
}
