/**
 * Filter service benchmark: SubscriptionIndex.match throughput and memory.
 *
 *   npm run bench:filter
 *   npm run bench:filter -- --sizes=100000,10000 --events=1000000 --runs=3
 *
 * Options (all optional): --sizes (subscription counts, comma separated),
 * --events (events per timed run), --warmup (events before timing), --runs,
 * --seed, --check (events compared against a naive reference matcher),
 * --pool (distinct pre-generated events, cycled), --mix (JSON overriding fields
 * of DEFAULT_MIX in workload.ts, e.g. --mix='{"withTenant":0.98}'),
 * --operators (share of filter conditions written with operators in the
 * operators case: ranges, in, exists, not, header and time matches; 0 skips
 * the case), --no-build-scaling.
 *
 * Defaults: --sizes=100000,10000 --events=100000 --warmup=20000 --runs=3
 * --check=500 --pool=65536 --operators=0.5. Each size runs twice: with the mix
 * as given, then with operators in it (the rows marked "+ operators"). With the default mix one event fans out to ~860
 * subscriptions at 100k and a run of 100,000 events takes ~40 s; pass
 * --events=1000000 for 10k subscriptions or low-fan-out mixes.
 *
 * Single thread, single core, no workers; deterministic (seeded mulberry32).
 * Needs `node --expose-gc` for the heap figures.
 */
import os from 'node:os';
import { SubscriptionIndex } from '../libs/filter/src/index.js';
import {
  type BenchEvent,
  type BenchSubscription,
  EVENT_TENANT_SHARE,
  EVENT_TYPES,
  filtersOk,
  generateEvents,
  generateSubscriptions,
  type Kind,
  mixWith,
  type Mix,
  TENANT_COUNT,
  tenantOk,
  typeHits,
} from './workload.js';

interface Options {
  sizes: number[];
  events: number;
  warmup: number;
  runs: number;
  seed: number;
  check: number;
  pool: number;
  buildScaling: boolean;
  mix: Mix;
  operators: number;
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { sizes: [100_000, 10_000], events: 100_000, warmup: 20_000, runs: 3, seed: 20250101, check: 500, pool: 65_536, buildScaling: true, mix: mixWith({}), operators: 0.5 };
  for (const arg of argv) {
    const [name, raw = ''] = arg.replace(/^--/, '').split('=');
    const num = Number(raw.replaceAll('_', ''));
    switch (name) {
      case 'sizes':
        opts.sizes = raw.split(',').map((s) => Number(s.replaceAll('_', '')));
        break;
      case 'events':
      case 'warmup':
      case 'runs':
      case 'seed':
      case 'check':
      case 'pool':
        if (!Number.isInteger(num) || num < 0) throw new Error(`--${name} needs a non-negative integer, got ${JSON.stringify(raw)}`);
        opts[name] = num;
        break;
      case 'operators':
        if (!(num >= 0 && num <= 1)) throw new Error(`--operators needs a share from 0 to 1, got ${JSON.stringify(raw)}`);
        opts.operators = num;
        break;
      case 'mix':
        opts.mix = mixWith(JSON.parse(raw) as Parameters<typeof mixWith>[0]);
        break;
      case 'no-build-scaling':
        opts.buildScaling = false;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  if (opts.sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('--sizes needs positive integers');
  if (opts.runs < 1) throw new Error('--runs needs at least 1');
  return opts;
}

// --- measurement helpers ---

const gcFn = globalThis.gc;
function collect(): void {
  // Several passes so weak/finalisable garbage is gone too.
  for (let i = 0; i < 3; i++) gcFn?.();
}
function heapUsed(): number {
  collect();
  return process.memoryUsage().heapUsed;
}

const nowNs = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint): number => Number(nowNs() - t0) / 1e6;

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMB = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const fmtFixed = (n: number, digits = 1): string => n.toFixed(digits);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

const log = (message = ''): void => {
  process.stdout.write(`${message}\n`);
};

// --- the benchmark ---

interface Run {
  eventsPerSec: number;
  wallMs: number;
  cpuMs: number;
  matchesPerEvent: number;
}

interface SizeResult {
  size: number;
  label: string;
  buildMs: number;
  subsHeap: number;
  heapBefore: number;
  heapAfter: number;
  candidatesPerEvent: number;
  candidateEntriesPerEvent: number;
  candidatesByKind: Record<Kind, number>;
  runs: Run[];
}

function describeMix(subs: readonly BenchSubscription[]): string {
  const count = (pred: (s: BenchSubscription) => boolean) => subs.filter(pred).length;
  const pct = (n: number) => `${fmtInt(n)} (${((100 * n) / subs.length).toFixed(1)}%)`;
  const byKind = (k: Kind) => pct(count((s) => s.kind === k));
  const keys = (n: number) => count((s) => Object.keys(s.filters).length === n);
  const conditions = (s: BenchSubscription) => Object.values(s.filters);
  const wildcard = count((s) => conditions(s).some((c) => Array.isArray(c) && c.some((p: string) => p.includes('*'))));
  const withOperators = count((s) => conditions(s).some((c) => !Array.isArray(c)));
  const patterns = subs.reduce((n, s) => n + s.events.length, 0);
  return [
    `kinds: exact ${byKind('exact')}, prefix ${byKind('prefix')}, catch-all ${byKind('catchAll')}, prefix+exact ${byKind('mixed')}`,
    `type patterns: ${fmtInt(patterns)} (${(patterns / subs.length).toFixed(2)}/subscription)`,
    `with tenant: ${pct(count((s) => s.tenant !== undefined))}; disabled: ${pct(count((s) => !s.enabled))}`,
    `with filters: ${pct(keys(1) + keys(2))} (1 key ${fmtInt(keys(1))}, 2 keys ${fmtInt(keys(2))}; with a wildcard pattern ${fmtInt(wildcard)}; with operators ${fmtInt(withOperators)})`,
  ].join('\n    ');
}

/** Checks index.match against the naive reference on `events`, and counts type+tenant candidates. */
function verify(
  index: SubscriptionIndex<BenchSubscription>,
  subs: readonly BenchSubscription[],
  events: readonly BenchEvent[],
): Pick<SizeResult, 'candidatesPerEvent' | 'candidateEntriesPerEvent' | 'candidatesByKind'> {
  let candidates = 0;
  let entries = 0;
  const byKind: Record<Kind, number> = { exact: 0, prefix: 0, catchAll: 0, mixed: 0 };
  for (const event of events) {
    const expected: string[] = [];
    for (const sub of subs) {
      if (!tenantOk(sub, event)) continue;
      const hits = typeHits(sub, event.type);
      if (hits === 0) continue;
      candidates++;
      entries += hits;
      byKind[sub.kind]++;
      if (sub.enabled && filtersOk(sub, event)) expected.push(sub.id);
    }
    const actual = index.match(event).map((s) => s.id);
    if (actual.length !== new Set(actual).size) throw new Error(`duplicate matches for ${event.id}`);
    const a = actual.sort().join(',');
    const e = expected.sort().join(',');
    if (a !== e) throw new Error(`index and reference disagree on ${event.id} (${event.type}, tenant ${event.tenant}):\n  index:     ${a}\n  reference: ${e}`);
  }
  const n = Math.max(events.length, 1);
  for (const k of Object.keys(byKind) as Kind[]) byKind[k] /= n;
  return { candidatesPerEvent: candidates / n, candidateEntriesPerEvent: entries / n, candidatesByKind: byKind };
}

function matchLoop(index: SubscriptionIndex<BenchSubscription>, pool: readonly BenchEvent[], count: number): number {
  let matches = 0;
  const size = pool.length;
  for (let i = 0, j = 0; i < count; i++) {
    matches += index.match(pool[j]).length;
    if (++j === size) j = 0;
  }
  return matches;
}

function benchSize(size: number, label: string, mix: Mix, opts: Options, pool: readonly BenchEvent[]): SizeResult {
  log(`\n== ${fmtInt(size)} subscriptions${label} ==`);
  const beforeSubs = heapUsed();
  const subs = generateSubscriptions(size, opts.seed, mix);
  const subsHeap = heapUsed() - beforeSubs;
  log(`  mix:\n    ${describeMix(subs)}`);
  log(`  subscription objects themselves: ${fmtMB(subsHeap)} of heap (not counted below)`);

  const heapBefore = heapUsed();
  const t0 = nowNs();
  const index = new SubscriptionIndex<BenchSubscription>();
  for (const sub of subs) index.upsert(sub);
  const buildMs = msSince(t0);
  const heapAfter = heapUsed();
  if (index.size !== size) throw new Error(`index holds ${index.size} subscriptions, expected ${size}`);
  log(`  build: ${fmtFixed(buildMs)} ms; heap ${fmtMB(heapBefore)} -> ${fmtMB(heapAfter)} (+${fmtMB(heapAfter - heapBefore)}, ${fmtInt((heapAfter - heapBefore) / size)} B/subscription)`);

  const checkEvents = pool.slice(0, Math.min(opts.check, pool.length));
  const t1 = nowNs();
  const check = verify(index, subs, checkEvents);
  log(
    `  check: ${checkEvents.length} events agree with the naive reference matcher (${fmtFixed(msSince(t1) / 1000)} s); ` +
      `per event ${fmtFixed(check.candidatesPerEvent)} candidates by type+tenant (${fmtFixed(check.candidateEntriesPerEvent)} with duplicates): ` +
      `catch-all ${fmtFixed(check.candidatesByKind.catchAll)}, prefix ${fmtFixed(check.candidatesByKind.prefix)}, ` +
      `prefix+exact ${fmtFixed(check.candidatesByKind.mixed)}, exact ${fmtFixed(check.candidatesByKind.exact)}`,
  );

  const t2 = nowNs();
  matchLoop(index, pool, opts.warmup);
  log(`  warm-up: ${fmtInt(opts.warmup)} events in ${fmtFixed(msSince(t2))} ms`);

  const runs: Run[] = [];
  for (let r = 1; r <= opts.runs; r++) {
    collect();
    const cpu0 = process.cpuUsage();
    const w0 = nowNs();
    const matches = matchLoop(index, pool, opts.events);
    const wallMs = msSince(w0);
    const cpu = process.cpuUsage(cpu0);
    const run: Run = { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, eventsPerSec: opts.events / (wallMs / 1000), matchesPerEvent: matches / opts.events };
    runs.push(run);
    log(
      `  run ${r}/${opts.runs}: ${fmtInt(opts.events)} events in ${fmtInt(wallMs)} ms = ${fmtInt(run.eventsPerSec)} events/s, ` +
        `CPU ${fmtInt(run.cpuMs)} ms (${fmtFixed(run.cpuMs / wallMs, 2)} cores), ${fmtFixed(run.matchesPerEvent, 2)} matches/event`,
    );
  }
  return { size, label, buildMs, subsHeap, heapBefore, heapAfter, ...check, runs };
}

/** Build time when every subscription lands on the same index key (`*`, no tenant). */
function buildScaling(): { n: number; ms: number }[] {
  const out: { n: number; ms: number }[] = [];
  for (const n of [5_000, 10_000, 20_000, 40_000]) {
    const subs = Array.from({ length: n }, (_, i) => ({ id: `hot-${i}`, events: ['*'], filters: {}, enabled: true }));
    collect();
    const t0 = nowNs();
    const index = new SubscriptionIndex();
    for (const s of subs) index.upsert(s);
    out.push({ n, ms: msSince(t0) });
  }
  return out;
}

function main(): void {
  const opts = parseOptions(process.argv.slice(2));
  if (!gcFn) log('warning: run node with --expose-gc, or heap figures include garbage');
  const cpus = os.cpus();
  log('Filter service benchmark: SubscriptionIndex.match');
  log(
    `node ${process.version} (${process.arch}), ${cpus[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs available, ` +
      `${fmtFixed(os.totalmem() / 1024 ** 3)} GiB RAM; single thread, no workers`,
  );
  log(
    `workload: seed ${opts.seed}; ${fmtInt(EVENT_TYPES.length)} event types, ${fmtInt(TENANT_COUNT)} tenants; ` +
      `${opts.runs} runs × ${fmtInt(opts.events)} events after ${fmtInt(opts.warmup)} warm-up events, ` +
      `cycling ${fmtInt(opts.pool)} distinct events (${Math.round(EVENT_TENANT_SHARE * 100)}% with a tenant)`,
  );
  log(`mix: ${JSON.stringify(opts.mix)}`);

  const pool = generateEvents(opts.pool, opts.seed ^ 0x5eed);
  const cases: [string, Mix][] = [['', opts.mix]];
  if (opts.operators > 0) cases.push([' + operators', { ...opts.mix, withOperators: opts.operators }]);
  const results = cases.flatMap(([label, mix]) => opts.sizes.map((size) => benchSize(size, label, mix, opts, pool)));

  log('\n== Summary ==');
  log(
    table(
      ['subscriptions', 'build ms', 'index heap', 'B/sub', 'candidates/event', 'matches/event', 'events/s (median)', 'min–max', 'spread', 'CPU/wall', 'µs/event', 'ns/candidate'],
      results.map((r) => {
        const eps = r.runs.map((x) => x.eventsPerSec);
        const med = median(eps);
        const spread = (Math.max(...eps) - Math.min(...eps)) / med;
        const cpuRatio = r.runs.reduce((a, x) => a + x.cpuMs, 0) / r.runs.reduce((a, x) => a + x.wallMs, 0);
        return [
          `${fmtInt(r.size)}${r.label}`,
          fmtFixed(r.buildMs),
          fmtMB(r.heapAfter - r.heapBefore),
          fmtInt((r.heapAfter - r.heapBefore) / r.size),
          fmtFixed(r.candidatesPerEvent),
          fmtFixed(median(r.runs.map((x) => x.matchesPerEvent)), 2),
          fmtInt(med),
          `${fmtInt(Math.min(...eps))}–${fmtInt(Math.max(...eps))}`,
          `${fmtFixed(spread * 100)}%`,
          fmtFixed(cpuRatio, 2),
          fmtFixed(1e6 / med, 2),
          r.candidatesPerEvent > 0 ? fmtInt(1e9 / med / r.candidatesPerEvent) : 'n/a',
        ];
      }),
    ),
  );
  const target = 200_000;
  for (const r of results) {
    const med = median(r.runs.map((x) => x.eventsPerSec));
    log(`${fmtInt(r.size)} subscriptions${r.label}: ${fmtInt(med)} events/s — target ${fmtInt(target)} events/s ${med >= target ? 'MET' : 'MISSED'} (${fmtFixed(med / target, 2)}×)`);
  }

  if (opts.buildScaling) {
    log('\n== Build time when all subscriptions share one index key (`*`, no tenant) ==');
    const rows = buildScaling();
    log(table(['subscriptions', 'build ms', 'µs/upsert'], rows.map((r) => [fmtInt(r.n), fmtFixed(r.ms), fmtFixed((r.ms * 1000) / r.n, 2)])));
  }
}

main();
