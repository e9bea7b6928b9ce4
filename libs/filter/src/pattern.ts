/** A case-insensitive value pattern with `*` wildcards, compiled once. */
export type ValueMatcher = (value: string) => boolean;

export function compileValuePattern(pattern: string): ValueMatcher {
  const lower = pattern.toLowerCase();
  if (!lower.includes('*')) return (value) => value.toLowerCase() === lower;
  if (lower === '*') return () => true;
  const source = lower
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`, 'is');
  return (value) => re.test(value);
}

/** Reads a dotted path (`data.project.name`) from an object; undefined when absent. */
export function readPath(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
