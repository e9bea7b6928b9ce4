// The side-by-side benchmark's outputs: the Markdown written between the bench:compare markers of
// docs/benchmarks.md, and the SVG chart (docs/benchmarks-compare.svg). Input: run.mjs's report.
// Run alone, it writes both again from a saved report (e.g. after a change to this file):
//   node bench/compare/report.mjs $TMPDIR/bench-compare/<id>/report.json
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtInt, fmtMs, REPO } from '../lib/kit.mjs';

// Issue 18: against the best peer of the same run (S1 and CPU: kafkajs eachBatch), and absolute where it says so.
const TARGETS = { s1Ratio: 1.0, cpuRatio: 1.0, p50At500: 10, p99At500Ratio: 1.5, p99AtHalf: 100, rssPerAppMb: 300, s3Ratio: 1.5 };
const REFERENCE_PEER = 'kafkajs-each-batch';

function stats(xs) {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = (v.length - 1) / 2;
  return { median: (v[Math.floor(mid)] + v[Math.ceil(mid)]) / 2, min: v[0], max: v[v.length - 1], n: v.length };
}

const range = (s, f = fmtInt) => (!s ? '–' : s.n === 1 ? f(s.median) : `**${f(s.median)}** (${f(s.min)}–${f(s.max)})`);
const fmtRatio = (x) => x.toFixed(3);

function pick(results, system, scenario, extra = () => true) {
  return results.filter((r) => r.system === system && r.scenario === scenario && !r.skipped && !r.failed && extra(r));
}

/** Per system: the figures of the summary table. */
export function summarise(report) {
  const rows = [];
  const rates = [...new Set(report.results.filter((r) => r.scenario === 'P').map((r) => r.rate))].sort((a, b) => a - b);
  for (const system of report.opts.peers) {
    const s1 = pick(report.results, system, 'S1');
    const s2 = pick(report.results, system, 'S2');
    const x10 = pick(report.results, system, 'S1x10');
    const s4 = pick(report.results, system, 'S4');
    const all = report.results.filter((r) => r.system === system && !r.skipped && !r.failed && r.scenario !== 'S3');
    const p = Object.fromEntries(
      rates.map((rate) => {
        const rs = pick(report.results, system, 'P', (r) => r.rate === rate);
        const skipped = report.results.some((r) => r.system === system && r.scenario === 'P' && r.rate === rate && r.skipped);
        const hopNames = [...new Set(rs.flatMap((r) => Object.keys(r.hops ?? {})))];
        const hops = Object.fromEntries(hopNames.map((h) => [h, { p50: stats(rs.map((r) => r.hops?.[h]?.p50)), p99: stats(rs.map((r) => r.hops?.[h]?.p99)) }]));
        return [rate, { p50: stats(rs.map((r) => r.latencyMs.p50)), p99: stats(rs.map((r) => r.latencyMs.p99)), max: stats(rs.map((r) => r.latencyMs.max)), saturated: rs.some((r) => r.saturated), skipped, n: rs.length, hops }];
      }),
    );
    rows.push({
      system,
      label: report.systems[system].label,
      settings: report.systems[system].settings,
      s1: stats(s1.map((r) => r.perS)),
      s1Cpu: stats(s1.map((r) => r.cpuS)),
      s1CpuPer1k: stats(s1.map((r) => r.cpuMsPer1k)),
      s1Rss: stats(s1.map((r) => r.peakRssMb)),
      s1MaxProcRss: stats(s1.map((r) => r.maxProcessRssMb)),
      s1Events: s1[0]?.published,
      s2: stats(s2.map((r) => r.perS)),
      s2Peak: stats(s2.map((r) => r.peakInFlight)),
      s1Results: stats(s1.map((r) => r.resultsPerDelivered).filter((x) => x !== undefined)),
      s2Results: stats(s2.map((r) => r.resultsPerDelivered).filter((x) => x !== undefined)),
      x10: stats(x10.map((r) => r.perS)),
      s4: stats(s4.map((r) => r.perS)),
      p,
      voids: all.filter((r) => r.void?.length).length,
      failed: report.results.filter((r) => r.system === system && r.failed).length,
      runs: all.length,
      duplicates: all.reduce((a, r) => a + (r.duplicates ?? 0), 0),
      orderViolations: all.reduce((a, r) => a + (r.orderViolations ?? 0), 0),
      deadLettered: all.reduce((a, r) => a + (r.deadLettered ?? 0), 0),
      pendingRuns: all.filter((r) => r.mode === 'drain' && !r.windowS && r.pending > 0).length,
    });
  }
  return { rows, rates };
}

function loadRange(report) {
  const s = stats(report.results.map((r) => r.loadavg1));
  return s ? `${s.min.toFixed(1)}–${s.max.toFixed(1)} (median ${s.median.toFixed(1)})` : '–';
}

export function renderDocsSection(report) {
  const { rows, rates } = summarise(report);
  const gatewayOnly = (r, s) => (r.system.startsWith('gateway') ? s : 'n/a¹');
  const head = [
    'system',
    `S1 deliveries/s`,
    'S1 CPU ms / 1k',
    'S1 peak RSS MB',
    'S2 deliveries/s (peak in flight)',
    ...rates.map((r) => `P p99 ms @ ${fmtInt(r)}/s (p50 / max)`),
    'S1 ×10 deliveries/s',
    'S4 deliveries/s',
    'results records / delivered (S1; S2)',
    'void / runs (failed), dup, order',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const pCells = rates.map((rate) => {
      const x = r.p[rate];
      if (!x || x.n === 0) return x?.skipped ? 'over its knee' : '–';
      return `${range(x.p99, fmtMs)} (${fmtMs(x.p50?.median)} / ${fmtMs(x.max?.median)})${x.saturated ? ' saturated' : ''}`;
    });
    const cells = [
      r.label,
      range(r.s1),
      range(r.s1CpuPer1k),
      range(r.s1Rss),
      `${range(r.s2)} (${range(r.s2Peak)})`,
      ...pCells,
      gatewayOnly(r, range(r.x10)),
      gatewayOnly(r, range(r.s4)),
      gatewayOnly(r, `${range(r.s1Results, fmtRatio)}; ${range(r.s2Results, fmtRatio)}`),
      `${r.voids} / ${r.runs}${r.failed ? ` (${r.failed} failed)` : ''}, ${r.duplicates}, ${r.orderViolations}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const table = lines.join('\n');
  const s3 = report.results.filter((r) => r.scenario === 'S3' && !r.failed);
  const o = report.opts;
  const m = report.machine;
  const text = [
    `Latest run: \`npm run bench${report.argv.length ? ` -- ${report.argv.join(' ')}` : ''}\`, ${report.date.slice(0, 16).replace('T', ' ')} UTC, commit ${report.commit}; ` +
      `${m.cores} cores (${m.model}), ${m.memGiB} GiB, Node ${m.node}, ${m.java}; load average (1/5/15 min) ${m.loadavgAtStart} at the start, ${m.loadavg} at the end, ` +
      `1-min load ${loadRange(report)} across the runs (above ${m.cores}: other work shared the cores). ` +
      `${o.runs} run(s) per figure: **median** (min–max). S1: ${fmtInt(o.events)}-event backlog; S2: ${fmtInt(o.s2Events)}-event backlog, receiver answering after 100 ms, measured over the first ${o.s2WindowS} s of receipts; ` +
      `P: ${o.warmupS} s warm-up then ${o.pacedSeconds} s per rate; S1 ×10: ${fmtInt(Math.round(o.events / 5))} events × 10 subscriptions; S4: ${fmtInt(o.s4Events)} events over ${fmtInt(o.s4Subscriptions)} subscriptions (one match each); ` +
      `${o.partitions} partitions. CPU and RSS: every process of the system, from its first delivery to the end of the run (RSS: the sum of each process's peak).`,
    '',
    table,
    '',
    '¹ n/a: the peer posts every event to one configured URL; it has no subscriptions to fan out to or match.',
    '"saturated": events were still missing 20 s after the phase, or they arrived at under 90% of the rate; "over its knee": not run, a lower rate already saturated it.',
    '',
    ...(s3.length
      ? [
          `S3 (gateway with its default settings, \`bench/delivery/run.mjs --scenario=isolation\`: 1,000 endpoints, 500 events/s, 10% of endpoints hang or answer 500): ` +
            s3
              .map(
                (r) =>
                  `healthy endpoints' p99 ${fmtMs(r.healthyP99)} ms all-healthy → ${fmtMs(r.faultyHealthyP99)} ms with the faulty ones (${Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '∞'}×, target ≤ 1.5×); ` +
                  `published ${fmtInt(r.published)} = delivered ${fmtInt(r.delivered)} + dead-lettered ${fmtInt(r.deadLettered)} + pending ${fmtInt(r.pending)} (${r.exact ? 'exact' : 'NOT exact'}); duplicates ${r.duplicates}.`,
              )
              .join(' '),
          '',
        ]
      : []),
    ...rows.filter((r) => r.system.startsWith('gateway')).flatMap((g) => [gatewayVerdicts(g, rows, rates, report), '', ...hopTable(g, rates)]),
    ...(report.profile
      ? [
          `CPU profile of one more ${report.profile.scenario ?? 'S1'} run of ${report.profile.system} (\`--profile\`; ${fmtInt(report.profile.run.perS)} deliveries/s under the profiler), top self time per app:`,
          '',
          ...Object.entries(report.profile.summaries).flatMap(([f, t]) => ['```', `${f}`, t, '```']),
          '',
        ]
      : []),
    '![Side-by-side benchmark](benchmarks-compare.svg)',
  ].join('\n');
  return { table, text };
}

/** The gateway's latency per hop in the paced runs (bench/compare/hops.mjs): median over the runs of each hop's p50 and p99. */
function hopTable(gw, rates) {
  const withHops = rates.filter((rate) => Object.keys(gw.p[rate]?.hops ?? {}).length > 0);
  if (withHops.length === 0) return [];
  const names = [...new Set(withHops.flatMap((rate) => Object.keys(gw.p[rate].hops)))];
  const head = ['hop (first attempts)', ...withHops.map((rate) => `@ ${fmtInt(rate)}/s p50 / p99 ms`)];
  const cell = (h) => (h?.p50 ? `${fmtMs(h.p50.median)} / ${fmtMs(h.p99.median)}` : '–');
  return [
    `Where the time goes, ${gw.label} (per hop, median of the runs' p50 and p99; from the apps' \`HOP_LOG\` and the run's topics, \`bench/compare/hops.mjs\`; the hops do not add up: each has its own distribution):`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...names.map((n) => `| ${n} | ${withHops.map((rate) => cell(gw.p[rate].hops[n])).join(' | ')} |`),
    '',
  ];
}

function gatewayVerdicts(gw, rows, rates, report) {
  const v = [];
  const mark = (ok, s) => v.push(`- ${ok === undefined ? 'not measured' : ok ? 'met' : '**missed**'}: ${s}`);
  const ref = rows.find((r) => r.system === REFERENCE_PEER);
  const peers = rows.filter((r) => !r.system.startsWith('gateway'));
  const ratio = (a, b) => (a && b ? a.median / b.median : undefined);
  const x = (r) => (r === undefined ? '–' : `${r.toFixed(2)}×`);
  const s1 = ratio(gw.s1, ref?.s1);
  mark(s1 === undefined ? undefined : s1 >= TARGETS.s1Ratio, `S1 ≥ ${TARGETS.s1Ratio.toFixed(1)}× kafkajs eachBatch: ${range(gw.s1)} against ${range(ref?.s1)} deliveries/s, ${x(s1)}`);
  const cpu = ratio(gw.s1CpuPer1k, ref?.s1CpuPer1k);
  mark(cpu === undefined ? undefined : cpu <= TARGETS.cpuRatio, `CPU per delivery ≤ ${TARGETS.cpuRatio.toFixed(1)}× kafkajs eachBatch (S1, every process of each system): ${range(gw.s1CpuPer1k)} against ${range(ref?.s1CpuPer1k)} ms per 1,000, ${x(cpu)}`);
  const p500 = gw.p[500];
  mark(p500?.p50 ? p500.p50.median <= TARGETS.p50At500 : undefined, `P at 500/s p50 ≤ ${TARGETS.p50At500} ms: ${p500?.p50 ? `${fmtMs(p500.p50.median)} ms` : '–'}`);
  const bestP99 = peers.map((r) => r.p[500]?.p99?.median).filter(Number.isFinite).sort((a, b) => a - b)[0];
  const p99Ratio = p500?.p99 && bestP99 ? p500.p99.median / bestP99 : undefined;
  mark(p99Ratio === undefined ? undefined : p99Ratio <= TARGETS.p99At500Ratio, `P at 500/s p99 ≤ ${TARGETS.p99At500Ratio}× the best peer's: ${p500?.p99 ? fmtMs(p500.p99.median) : '–'} against ${fmtMs(bestP99)} ms, ${x(p99Ratio)}`);
  const half = rates.find((r) => r !== 500);
  const pHalf = half === undefined ? undefined : gw.p[half];
  mark(pHalf?.p99 ? pHalf.p99.median <= TARGETS.p99AtHalf : undefined, `P at half of the gateway's S1 (${half === undefined ? '–' : `${fmtInt(half)}/s`}) p99 ≤ ${TARGETS.p99AtHalf} ms: ${pHalf?.p99 ? `${fmtMs(pHalf.p99.median)} ms` : '–'}`);
  mark(gw.s1MaxProcRss ? gw.s1MaxProcRss.median <= TARGETS.rssPerAppMb : undefined, `RSS ≤ ${TARGETS.rssPerAppMb} MB per app: the larger app peaked at ${range(gw.s1MaxProcRss)} MB in S1 (both apps ${range(gw.s1Rss)} MB)`);
  const s3 = report.results.find((r) => r.scenario === 'S3' && !r.failed);
  mark(s3 ? Number.isFinite(s3.ratio) && s3.ratio <= TARGETS.s3Ratio && s3.exact : undefined, `S3 healthy p99 ≤ ${TARGETS.s3Ratio}× all-healthy, exact accounting${s3 ? `: ${Number.isFinite(s3.ratio) ? s3.ratio.toFixed(2) : '∞'}×, ${s3.exact ? 'exact' : 'not exact'}` : ''}`);
  const x10 = gw.x10 ? `; S1 ×10 ${range(gw.x10)}/s` : '';
  const s4 = gw.s4 ? `; S4 ${range(gw.s4)}/s` : '';
  const s2 = gw.s2 ? `; S2 ${range(gw.s2)}/s, peak ${range(gw.s2Peak)} in flight` : '';
  return [`Targets of issue 18 for ${gw.label} (${gw.settings})${s2}${x10}${s4}:`, '', ...v].join('\n');
}

// ------------------------------------------------------------------ SVG chart
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars per system, one panel per figure: median bar, min–max whisker. */
export function renderChart(report) {
  const { rows, rates } = summarise(report);
  const panels = [
    { title: 'S1: deliveries/s, fast receiver, fan-out 1 (higher is better)', get: (r) => r.s1, fmt: fmtInt },
    { title: 'S2: deliveries/s, receiver answering after 100 ms (higher is better)', get: (r) => r.s2, fmt: fmtInt },
    ...rates.map((rate) => ({ title: `P: p99 latency ms at ${fmtInt(rate)} events/s (lower is better)`, get: (r) => (r.p[rate]?.saturated ? undefined : r.p[rate]?.p99), fmt: fmtMs, note: (r) => (r.p[rate]?.saturated ? 'saturated' : r.p[rate]?.skipped ? 'over its knee' : undefined) })),
    { title: 'S1: CPU ms per 1,000 deliveries (lower is better)', get: (r) => r.s1CpuPer1k, fmt: fmtInt },
    { title: 'S1: peak RSS MB, all processes (lower is better)', get: (r) => r.s1Rss, fmt: fmtInt },
  ].filter((p) => rows.some((r) => p.get(r)));
  const W = 900;
  const labelW = 260;
  const barH = 16;
  const gap = 6;
  const panelGap = 40;
  let y = 30;
  const parts = [];
  parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">Kafka → webhook: this gateway and its peers (${esc(report.date.slice(0, 10))}, ${report.machine.cores} cores)</text>`);
  for (const p of panels) {
    y += 22;
    parts.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
    y += 8;
    const max = Math.max(...rows.map((r) => p.get(r)?.max ?? 0), 1);
    const scale = (W - labelW - 90) / max;
    for (const r of rows) {
      const s = p.get(r);
      const color = r.system.startsWith('gateway') ? '#d9480f' : '#4263eb';
      parts.push(`<text x="${labelW - 8}" y="${y + barH - 4}" font-size="12" text-anchor="end">${esc(r.label)}</text>`);
      if (s) {
        const w = Math.max(1, s.median * scale);
        parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}" opacity="0.85"/>`);
        if (s.n > 1) {
          const x1 = labelW + s.min * scale;
          const x2 = labelW + s.max * scale;
          parts.push(`<line x1="${x1.toFixed(1)}" y1="${y + barH / 2}" x2="${x2.toFixed(1)}" y2="${y + barH / 2}" stroke="#212529" stroke-width="1.5"/>`);
        }
        parts.push(`<text x="${(labelW + Math.max(w, s.max * scale) + 6).toFixed(1)}" y="${y + barH - 4}" font-size="12">${esc(p.fmt(s.median))}</text>`);
      } else {
        parts.push(`<text x="${labelW + 4}" y="${y + barH - 4}" font-size="12" fill="#868e96">${esc(p.note?.(r) ?? (r.system.startsWith('gateway') ? 'not run' : 'n/a'))}</text>`);
      }
      y += barH + gap;
    }
    y += panelGap - 22;
  }
  y += 10;
  parts.push(`<text x="10" y="${y}" font-size="11" fill="#495057">Bars: median of ${report.opts.runs} run(s); lines: min–max. Broker, receiver and system share the machine. Source: npm run bench (bench/compare).</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 14}" viewBox="0 0 ${W} ${y + 14}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}

/** Writes the table and text between the markers of docs/benchmarks.md, and the chart. */
export function writeDocs(report, repo = REPO) {
  const { text } = renderDocsSection(report);
  writeFileSync(path.join(repo, 'docs', 'benchmarks-compare.svg'), renderChart(report));
  const docs = path.join(repo, 'docs', 'benchmarks.md');
  const md = readFileSync(docs, 'utf8');
  const start = '<!-- bench:compare:start -->';
  const end = '<!-- bench:compare:end -->';
  const block = `${start}\n${text}\n${end}`;
  writeFileSync(docs, md.includes(start) ? md.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => block) : `${md.trimEnd()}\n\n${block}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/compare/report.mjs <report.json>');
  writeDocs(JSON.parse(readFileSync(file, 'utf8')));
  console.log('wrote docs/benchmarks.md (between the bench:compare markers) and docs/benchmarks-compare.svg');
}
