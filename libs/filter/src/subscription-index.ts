import { compileCondition, type ConditionTest, type FilterCondition, pathKeys, PathValue, requiredLiterals } from './condition.js';
import { readPath } from './pattern.js';

/** What the index needs of a subscription. */
export interface Matchable {
  id: string;
  events: readonly string[];
  /** Path → patterns (any may match) or operators (all must hold); every path must match. */
  filters: Readonly<Record<string, FilterCondition>>;
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
  /** Every filter must match (AND). */
  filters: { path: string; keys: string[]; test: ConditionTest }[];
  /**
   * The entry's first filter that needs one of a list of literal values (patterns without
   * `*`, or an `in` list), if any: the entry is filed under each of those values, so an
   * event that carries none of them never visits it. The filter's other operators are
   * checked on the entries the values yield.
   */
  literal?: { path: string; keys: string[]; values: string[] };
  /** The last match() call that took this entry, so one met twice is taken once. */
  seen: number;
}

/** The event's value at a path (read once per match call). */
type ValuesAt = (path: string, keys: string[]) => PathValue;

/**
 * The entries of one type pattern: those with a literal filter by path and value,
 * the others in a list. An event visits the list and, per path, the entries filed
 * under its own values there: with many subscriptions on one type told apart by a
 * literal filter (`data.customer: ["c-42"]`), it visits only its own.
 */
class Bucket<S extends Matchable> {
  readonly plain: Entry<S>[] = [];
  readonly byLiteral = new Map<string, { keys: string[]; values: Map<string, Entry<S>[]> }>();
  size = 0;

  add(entry: Entry<S>): void {
    this.size++;
    const literal = entry.literal;
    if (!literal) return void this.plain.push(entry);
    let byValue = this.byLiteral.get(literal.path);
    if (!byValue) this.byLiteral.set(literal.path, (byValue = { keys: literal.keys, values: new Map() }));
    for (const value of literal.values) push(byValue.values, value, entry);
  }

  remove(entry: Entry<S>): void {
    this.size--;
    const literal = entry.literal;
    if (!literal) return pull(this.plain, entry);
    const byValue = this.byLiteral.get(literal.path);
    if (!byValue) return;
    for (const value of literal.values) pullFrom(byValue.values, value, entry);
    if (byValue.values.size === 0) this.byLiteral.delete(literal.path);
  }

  collect(visit: (entry: Entry<S>) => void, valuesAt: ValuesAt): void {
    for (const e of this.plain) visit(e);
    for (const [path, byValue] of this.byLiteral) {
      for (const value of valuesAt(path, byValue.keys).scalars) {
        const entries = byValue.values.get(value);
        if (entries) for (const e of entries) visit(e);
      }
    }
  }
}

/** Subscriptions of one tenant (or of none), indexed by event-type pattern, then by literal filter value. */
class TypeIndex<S extends Matchable> {
  readonly exact = new Map<string, Bucket<S>>();
  /** `deployment.*` is stored under `deployment.`. */
  readonly prefix = new Map<string, Bucket<S>>();
  readonly catchAll = new Bucket<S>();
  size = 0;

  add(entry: Entry<S>): void {
    for (const pattern of new Set(entry.subscription.events)) this.bucket(pattern, true)!.add(entry);
    this.size++;
  }

  remove(entry: Entry<S>): void {
    for (const pattern of new Set(entry.subscription.events)) {
      const bucket = this.bucket(pattern, false);
      if (!bucket) continue;
      bucket.remove(entry);
      if (bucket.size === 0 && bucket !== this.catchAll) {
        if (pattern.endsWith('.*')) this.prefix.delete(pattern.slice(0, -1));
        else this.exact.delete(pattern);
      }
    }
    this.size--;
  }

  /** Calls `visit` for each entry whose type pattern matches `type` (an entry may come more than once). */
  collect(type: string, visit: (entry: Entry<S>) => void, valuesAt: ValuesAt): void {
    this.exact.get(type)?.collect(visit, valuesAt);
    if (this.prefix.size > 0) {
      for (let dot = type.indexOf('.'); dot !== -1; dot = type.indexOf('.', dot + 1)) {
        this.prefix.get(type.slice(0, dot + 1))?.collect(visit, valuesAt);
      }
    }
    this.catchAll.collect(visit, valuesAt);
  }

  private bucket(pattern: string, create: boolean): Bucket<S> | undefined {
    if (pattern === '*') return this.catchAll;
    const [map, key] = pattern.endsWith('.*') ? [this.prefix, pattern.slice(0, -1)] : [this.exact, pattern];
    let bucket = map.get(key);
    if (!bucket && create) map.set(key, (bucket = new Bucket<S>()));
    return bucket;
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
 * Lookup is by tenant, then exact type, then type prefixes, then catch-all, and
 * within each by the value of a literal filter, so its cost does not grow with
 * subscriptions that cannot match the event.
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
    const conditions = Object.entries(subscription.filters);
    const filters = conditions.map(([path, condition]) => ({ path, keys: pathKeys(path), test: compileCondition(condition) }));
    let literal: Entry<S>['literal'];
    for (const [path, condition] of conditions) {
      const values = requiredLiterals(condition);
      if (values) {
        literal = { path, keys: pathKeys(path), values };
        break;
      }
    }
    const entry: Entry<S> = { subscription, filters, literal, seen: 0 };
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
    // An event's value at a path is read (and lower-cased) once per call, whatever the number of filters on it.
    let values: Map<string, PathValue> | undefined;
    const valuesAt = (path: string, keys: string[]): PathValue => {
      values ??= new Map();
      let v = values.get(path);
      if (!v) values.set(path, (v = new PathValue(readPath(event, keys))));
      return v;
    };
    const visit = (entry: Entry<S>) => {
      if (entry.seen === call) return;
      entry.seen = call;
      for (const filter of entry.filters) {
        if (!filter.test(valuesAt(filter.path, filter.keys))) return;
      }
      matched.push(entry.subscription);
    };
    this.byTenant.get(NO_TENANT)?.collect(event.type, visit, valuesAt);
    if (event.tenant !== undefined && event.tenant !== NO_TENANT) this.byTenant.get(event.tenant)?.collect(event.type, visit, valuesAt);
    return matched;
  }
}
