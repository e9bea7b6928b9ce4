/** A value pattern with `*` wildcards, compiled once; it is given values already lower-cased. */
export type ValueMatcher = (lowerCasedValue: string) => boolean;

const compiled = new Map<string, ValueMatcher>();

/** Case-insensitive matcher for a pattern; equal patterns share one matcher. */
export function compileValuePattern(pattern: string): ValueMatcher {
  const lower = pattern.toLowerCase();
  let matcher = compiled.get(lower);
  if (!matcher) compiled.set(lower, (matcher = compile(lower)));
  return matcher;
}

function compile(lower: string): ValueMatcher {
  if (!lower.includes('*')) return (value) => value === lower;
  if (lower === '*') return () => true;
  const source = lower
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`, 's');
  return (value) => re.test(value);
}

/** Reads a dotted path (`data.project.name`) from an object; undefined when absent. */
export function readPath(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    // Own properties only: `data.constructor` is absent, not Object's constructor.
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
