// Bytes allocated per function (self), from a profile written by bench/lib/alloc-profile.mjs.
//   node bench/compare/alloc-summary.mjs <alloc-<pid>.json> [top=30]
import { readFileSync } from 'node:fs';

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[3] ?? 30);
const bytes = new Map();
let total = 0;
const walk = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = (url || '').replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'app:');
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child);
};
walk(profile.head);
console.log(`sampled allocations: ${(total / 1e6).toFixed(0)} MB`);
for (const [key, n] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((n / total) * 100).toFixed(1).padStart(5)}%  ${(n / 1e6).toFixed(0).padStart(5)} MB  ${key}`);
}
