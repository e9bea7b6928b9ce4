/**
 * A typed tree from a flat table: each entry names its place with a dotted path
 * (`delivery.timeoutMs`), the tree's type follows from the paths and the parsers' return
 * types, and `place` puts each parsed value at its path at run time.
 */

/** What the tree needs of a table entry: its place and its value's type. */
interface Leaf {
  path: string;
  value: unknown;
}

/** The table's entries as leaves: each path with what its parser returns. */
export type Leaves<E extends { path: string; parse: (raw: string) => unknown }> = E extends unknown ? { path: E['path']; value: ReturnType<E['parse']> } : never;

/** One object type for an intersection (what editors show, and what `Omit` keeps). */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** `T` with its property `K` replaced by `V`. */
export type Replace<T, K extends keyof T, V> = Simplify<Omit<T, K> & { [P in K]: V }>;

type Own<L extends Leaf> = Exclude<L, { path: `${string}.${string}` }>;
type Heads<L extends Leaf> = L extends { path: `${infer H}.${string}` } ? H : never;
type Below<L extends Leaf, H extends string> = L extends { path: `${H}.${infer R}`; value: infer V } ? { path: R; value: V } : never;

type Value<L extends Leaf, K> = K extends Heads<L> ? Tree<Below<L, K>> : Extract<Own<L>, { path: K }>['value'];
type OptionalKeys<L extends Leaf> = L extends unknown ? (undefined extends L['value'] ? Own<L>['path'] : never) : never;

/** The object the leaves make; a value that may be undefined is an optional property. */
export type Tree<L extends Leaf> = { [K in Exclude<Own<L>['path'] | Heads<L>, OptionalKeys<L>>]: Value<L, K> } & { [K in OptionalKeys<L>]?: Value<L, K> };

/** A path and each of its prefixes: `kafka`, `kafka.security`, `kafka.security.protocol`. */
export type PathPrefix<P extends string> = P extends `${infer H}.${infer R}` ? H | `${H}.${PathPrefix<R>}` : P;

/** Whether `path` is `prefix` or lies below it. */
export const isUnder = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}.`);

/** Puts `value` at `path` in `tree`, making the objects on the way. */
export function place(tree: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  let node = tree;
  for (const key of keys) node = (node[key] ??= {}) as Record<string, unknown>;
  node[last] = value;
}

/** The value at `path` in `tree`. */
export const valueAt = (tree: object, path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], tree);
