import { compileValuePattern, readPath, type ValueMatcher } from './pattern.js';

/** What the index needs of a subscription. */
export interface Matchable {
  id: string;
  events: readonly string[];
  filters: Readonly<Record<string, readonly string[]>>;
  enabled: boolean;
  tenant?: string;
}

/** What the index needs of an event (the gateway's normalised event satisfies it). */
export interface MatchableEvent {
  type: string;
  tenant?: string;
}

interface Entry<S extends Matchable> {
  subscription: S;
  /** Every filter must match (AND); any pattern of a filter may (OR). */
  filters: { path: string[]; anyOf: ValueMatcher[] }[];
}

/** Subscriptions of one tenant (or of none), indexed by event-type pattern. */
class TypeIndex<S extends Matchable> {
  readonly exact = new Map<string, Entry<S>[]>();
  /** `deployment.*` is stored under `deployment.`. */
  readonly prefix = new Map<string, Entry<S>[]>();
  catchAll: Entry<S>[] = [];
  size = 0;

  add(entry: Entry<S>): void {
    for (const pattern of new Set(entry.subscription.events)) {
      if (pattern === '*') this.catchAll = [...this.catchAll, entry];
      else if (pattern.endsWith('.*')) push(this.prefix, pattern.slice(0, -1), entry);
      else push(this.exact, pattern, entry);
    }
    this.size++;
  }

  remove(entry: Entry<S>): void {
    for (const pattern of new Set(entry.subscription.events)) {
      if (pattern === '*') this.catchAll = this.catchAll.filter((e) => e !== entry);
      else if (pattern.endsWith('.*')) pull(this.prefix, pattern.slice(0, -1), entry);
      else pull(this.exact, pattern, entry);
    }
    this.size--;
  }

  /** Entries whose type patterns match `type`; one entry may come more than once. */
  collect(type: string, out: Entry<S>[]): void {
    const exact = this.exact.get(type);
    if (exact) out.push(...exact);
    if (this.prefix.size > 0) {
      for (let dot = type.indexOf('.'); dot !== -1; dot = type.indexOf('.', dot + 1)) {
        const byPrefix = this.prefix.get(type.slice(0, dot + 1));
        if (byPrefix) out.push(...byPrefix);
      }
    }
    if (this.catchAll.length > 0) out.push(...this.catchAll);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  // Lists are replaced, never mutated, so a match in progress keeps a stable view.
  map.set(key, list ? [...list, value] : [value]);
}

function pull<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)?.filter((v) => v !== value);
  if (!list || list.length === 0) map.delete(key);
  else map.set(key, list);
}

const NO_TENANT = '';

/**
 * The filter service: which subscriptions want an event. Pure and in memory.
 * Lookup is by tenant, then exact type, then type prefixes, then catch-all,
 * so its cost does not grow with subscriptions that cannot match the event.
 */
export class SubscriptionIndex<S extends Matchable> {
  private readonly byTenant = new Map<string, TypeIndex<S>>();
  private readonly byId = new Map<string, Entry<S>>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): S | undefined {
    return this.byId.get(id)?.subscription;
  }

  all(): S[] {
    return [...this.byId.values()].map((e) => e.subscription);
  }

  /** Adds or replaces the subscription with this id. */
  upsert(subscription: S): void {
    this.remove(subscription.id);
    const entry: Entry<S> = {
      subscription,
      filters: Object.entries(subscription.filters).map(([path, patterns]) => ({
        path: path.split('.'),
        anyOf: patterns.map(compileValuePattern),
      })),
    };
    const tenant = subscription.tenant ?? NO_TENANT;
    let index = this.byTenant.get(tenant);
    if (!index) this.byTenant.set(tenant, (index = new TypeIndex<S>()));
    index.add(entry);
    this.byId.set(subscription.id, entry);
  }

  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    const tenant = entry.subscription.tenant ?? NO_TENANT;
    const index = this.byTenant.get(tenant);
    if (index) {
      index.remove(entry);
      if (index.size === 0) this.byTenant.delete(tenant);
    }
    this.byId.delete(id);
    return true;
  }

  /**
   * Enabled subscriptions whose type pattern, tenant and every attribute filter
   * match the event, each once. A subscription with a tenant only sees events of
   * that tenant; one without sees every event.
   */
  match(event: MatchableEvent): S[] {
    const candidates: Entry<S>[] = [];
    this.byTenant.get(NO_TENANT)?.collect(event.type, candidates);
    if (event.tenant !== undefined && event.tenant !== NO_TENANT) this.byTenant.get(event.tenant)?.collect(event.type, candidates);
    if (candidates.length === 0) return [];
    const matched: S[] = [];
    const seen = candidates.length > 1 ? new Set<Entry<S>>() : undefined;
    for (const entry of candidates) {
      if (seen) {
        if (seen.has(entry)) continue;
        seen.add(entry);
      }
      if (entry.subscription.enabled && filtersMatch(entry, event)) matched.push(entry.subscription);
    }
    return matched;
  }
}

function filtersMatch(entry: Entry<Matchable>, event: MatchableEvent): boolean {
  for (const filter of entry.filters) {
    const value = readPath(event, filter.path);
    if (!valueMatches(value, filter.anyOf)) return false;
  }
  return true;
}

function valueMatches(value: unknown, anyOf: ValueMatcher[]): boolean {
  if (Array.isArray(value)) return value.some((v) => valueMatches(v, anyOf));
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
  const text = String(value);
  return anyOf.some((m) => m(text));
}
