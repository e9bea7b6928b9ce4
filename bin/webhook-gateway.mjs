#!/usr/bin/env node
// The operator CLI: runs the compiled entry (npm run build puts it under dist/).
import { existsSync } from 'node:fs';
import { quietKafkajsWarnings } from '../scripts/lib/local.mjs';

quietKafkajsWarnings();
const entry = new URL('../dist/apps/cli/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('webhook-gateway: dist/apps/cli is missing: run `npm run build` first');
  process.exit(1);
}
await import(entry.href);
