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
  filters: { path: string; keys: string[]; anyOf: ValueMatcher[] }[];
  /** The last match() call that took this entry, so one met twice is taken once. */
  seen: number;
}

/** Subscriptions of one tenant (or of none), indexed by event-type pattern. */
class TypeIndex<S extends Matchable> {
  readonly exact = new Map<string, Entry<S>[]>();
  /** `deployment.*` is stored under `deployment.`. */
  readonly prefix = new Map<string, Entry<S>[]>();
  readonly catchAll: Entry<S>[] = [];
  size = 0;

  add(entry: Entry<S>): void {
    for (const pattern of new Set(entry.subscription.events)) {
      if (pattern === '*') this.catchAll.push(entry);
      else if (pattern.endsWith('.*')) push(this.prefix, pattern.slice(0, -1), entry);
      else push(this.exact, pattern, entry);
    }
    this.size++;
  }

  remove(entry: Entry<S>): void {
    for (const pattern of new Set(entry.subscription.events)) {
      if (pattern === '*') pull(this.catchAll, entry);
      else if (pattern.endsWith('.*')) pullFrom(this.prefix, pattern.slice(0, -1), entry);
      else pullFrom(this.exact, pattern, entry);
    }
    this.size--;
  }

  /** Calls `visit` for each entry whose type pattern matches `type` (an entry may come more than once). */
  collect(type: string, visit: (entry: Entry<S>) => void): void {
    const exact = this.exact.get(type);
    if (exact) for (const e of exact) visit(e);
    if (this.prefix.size > 0) {
      for (let dot = type.indexOf('.'); dot !== -1; dot = type.indexOf('.', dot + 1)) {
        const byPrefix = this.prefix.get(type.slice(0, dot + 1));
        if (byPrefix) for (const e of byPrefix) visit(e);
      }
    }
    for (const e of this.catchAll) visit(e);
  }
}

// Lists are changed in place: match() is synchronous, so no change can happen during one.
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function pull<V>(list: V[], value: V): void {
  const i = list.indexOf(value);
  if (i !== -1) list.splice(i, 1);
}

function pullFrom<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (!list) return;
  pull(list, value);
  if (list.length === 0) map.delete(key);
}

const NO_TENANT = '';

/**
 * The filter service: which subscriptions want an event. Pure and in memory.
 * Lookup is by tenant, then exact type, then type prefixes, then catch-all,
 * so its cost does not grow with subscriptions that cannot match the event.
 * Disabled subscriptions are kept (for get/all) but not indexed.
 */
export class SubscriptionIndex<S extends Matchable> {
  private readonly byTenant = new Map<string, TypeIndex<S>>();
  private readonly byId = new Map<string, Entry<S>>();
  private matchCalls = 0;

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
        path,
        keys: path.split('.'),
        anyOf: patterns.map(compileValuePattern),
      })),
      seen: 0,
    };
    this.byId.set(subscription.id, entry);
    if (!subscription.enabled) return;
    const tenant = subscription.tenant ?? NO_TENANT;
    let index = this.byTenant.get(tenant);
    if (!index) this.byTenant.set(tenant, (index = new TypeIndex<S>()));
    index.add(entry);
  }

  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.byId.delete(id);
    if (!entry.subscription.enabled) return true;
    const tenant = entry.subscription.tenant ?? NO_TENANT;
    const index = this.byTenant.get(tenant);
    if (index) {
      index.remove(entry);
      if (index.size === 0) this.byTenant.delete(tenant);
    }
    return true;
  }

  /**
   * Enabled subscriptions whose type pattern, tenant and every attribute filter
   * match the event, each once. A subscription with a tenant only sees events of
   * that tenant; one without sees every event.
   */
  match(event: MatchableEvent): S[] {
    const call = ++this.matchCalls;
    const matched: S[] = [];
    // An event's value at a path is read and lower-cased once per call, whatever the number of filters on it.
    let values: Map<string, string[]> | undefined;
    const valuesAt = (path: string, keys: string[]): string[] => {
      values ??= new Map();
      let v = values.get(path);
      if (!v) values.set(path, (v = scalars(readPath(event, keys))));
      return v;
    };
    const visit = (entry: Entry<S>) => {
      if (entry.seen === call) return;
      entry.seen = call;
      for (const filter of entry.filters) {
        if (!anyMatches(valuesAt(filter.path, filter.keys), filter.anyOf)) return;
      }
      matched.push(entry.subscription);
    };
    this.byTenant.get(NO_TENANT)?.collect(event.type, visit);
    if (event.tenant !== undefined && event.tenant !== NO_TENANT) this.byTenant.get(event.tenant)?.collect(event.type, visit);
    return matched;
  }
}

function anyMatches(values: readonly string[], matchers: readonly ValueMatcher[]): boolean {
  for (const value of values) {
    for (const matcher of matchers) if (matcher(value)) return true;
  }
  return false;
}

/** The lower-cased text of a scalar, or of each scalar in an array; nothing for objects and absent values. */
function scalars(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(scalar).filter((v): v is string => v !== undefined);
  const v = scalar(value);
  return v === undefined ? [] : [v];
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
