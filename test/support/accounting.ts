import { mkdirSync, writeFileSync } from 'node:fs';
import type { AttemptResult, DeadLetter, DeliveryJob } from '@app/contracts';
import type { ReceivedRequest } from './receiver.js';

/** What happened to one expected (event, subscription) pair. */
interface Pair {
  webhookIds: Set<string>;
  /** Receipts at the receiver: when (ms since epoch), and the attempt's delivery id (x-webhook-delivery-id). */
  receipts: { at: number; deliveryId: string; attempt: string }[];
  deadLettered: boolean;
  /**
   * Delivery jobs written for the pair (webhooks.deliveries, read committed), by record position
   * (`partition@offset`): the reader itself reads at least once (after a broker failure its group
   * reads again from its last commit), and a record read twice is still one job.
   */
  jobs: Set<string>;
}

/** A moment of the run worth naming in the report (a kill, a restart); a fault can cost duplicates. */
export interface Mark {
  at: number;
  label: string;
  fault?: boolean;
}

/** A fault and the delivery attempts in flight around it (summed over the delivery processes, sampled from their /metrics). */
export interface FaultInFlight {
  label: string;
  /** The most sampled in the second before the fault (a sample can miss: a busy process's /metrics may not answer in time). */
  atFault: number;
  /** The most seen from the fault until the next mark: the attempts whose outcome the fault could catch unwritten. */
  untilNextMark: number;
}

export interface AccountingReport {
  scenario: string;
  /** Source events published. */
  published: number;
  /** (event, subscription) pairs owed a delivery. */
  expected: number;
  /** Pairs received at least once. */
  delivered: number;
  /** Pairs not received but on the dead-letter topic. */
  deadLettered: number;
  /** Pairs neither received nor dead-lettered. */
  lost: number;
  /** Receipts beyond the first of a pair. */
  duplicates: number;
  /** Pairs received under more than one webhook-id (must be 0). */
  splitIds: number;
  /** Receipts for pairs nobody expected (must be 0). */
  unexpected: number;
  /** Pairs with more than one delivery job on webhooks.deliveries (producer-side duplicates), when jobs were read; events the load generator had to publish again are not counted. */
  duplicateJobs?: number;
  /** Events the load generator published a second time (its producer failed; they may be in the source twice). */
  republished: number;
  /**
   * Receipts owed because the load generator published an event twice (each copy in the source is
   * a job of its own, attempted once): not counted as duplicates, which are the receipts beyond one
   * per job.
   */
  sourceRepeats: number;
  /** Duplicates counted by the mark (kill, restart) that came last before the duplicate receipt. */
  duplicateWindows: Record<string, number>;
  /** The marks in order, with their time (ISO). */
  marks?: { at: string; label: string }[];
  /**
   * Why each duplicate was sent, from the result record of the attempt the receiver had already
   * got (when the run read webhooks.results): `afterFailedAttempt`, the gateway saw that attempt
   * fail (a timeout: the receiver got it, the answer did not come back), so it retried as it
   * must; `outcomeUnwritten`, that attempt has no result: its outcome was never written (in
   * flight at a fault); `outcomeWritten`, its outcome was written and it was made again anyway
   * (read again before its offset was committed, or a retry job written twice).
   */
  duplicateCauses?: { afterFailedAttempt: number; outcomeUnwritten: number; outcomeWritten: number };
  /** The `afterFailedAttempt` duplicates by the reason the gateway recorded for the failed attempt (`timeout`, `http_500`, ...). */
  failedAttemptReasons?: Record<string, number>;
  /**
   * The `outcomeWritten` duplicates by the attempt numbers (x-webhook-attempt) of the delivered
   * attempt and of its repeat (`"1→1"`: the same job attempted twice, read again or written twice).
   */
  writtenRepeats?: Record<string, number>;
  /** Up to 20 duplicated pairs with their receipts (time, delivery id, attempt), to trace in the apps' logs. */
  duplicateSamples?: { pair: string; receipts: { at: string; deliveryId: string; attempt: string; result?: string }[] }[];
  /** Per fault, the attempts in flight at it and until the next mark (when the run sampled them). */
  faults?: FaultInFlight[];
  /**
   * The most duplicates the faults may cost: the jobs read and not yet committed (in flight in the
   * at-least-once sense) at each fault, summed over the faults. An attempt whose outcome is known
   * is not made again because a process died or Kafka failed; only such work may be. The chaos
   * specs assert every duplicate within it (their receivers answer in milliseconds, so even a
   * retry after a failed attempt is a fault's cost).
   */
  duplicateBound?: number;
  /** The same summed over the most in flight from each fault until the next mark (for comparison: a looser bound). */
  inFlightAfterFaults?: number;
}

/** The samples before a fault that count as "at" it: the second before. */
const AT_FAULT_WINDOW_MS = 1_000;

const pairKey = (eventId: string, subscriptionId: string) => `${eventId}|${subscriptionId}`;

/**
 * The accounting of a load run: every (event, subscription) pair owed a webhook, and what
 * became of it. Receipts come from the receiver (`receive`), dead letters and delivery jobs
 * from the gateway's topics. A receipt names its pair by the subscription its path belongs to
 * and the event id the test put in the event data (`data.eid`).
 */
export class Ledger {
  private readonly pairs = new Map<string, Pair>();
  private readonly marks: Mark[] = [];
  private published = 0;
  private unexpected = 0;
  private jobsRead = false;
  private readonly republishedEvents = new Set<string>();
  private readonly inFlightSamples: { at: number; count: number }[] = [];
  /** Result records by delivery id: whether the attempt was delivered, else why not (read from webhooks.results). */
  private readonly results = new Map<string, { delivered: boolean; reason: string }>();
  private resultsRead = false;

  constructor(
    readonly scenario: string,
    /** The subscription id a receiver path belongs to. */
    private readonly subscriptionOf: (path: string) => string | undefined,
  ) {}

  /** An event was published that `subscriptionIds` are owed. */
  expect(eventId: string, subscriptionIds: readonly string[]): void {
    this.published++;
    for (const s of subscriptionIds) this.pairs.set(pairKey(eventId, s), { webhookIds: new Set(), receipts: [], deadLettered: false, jobs: new Set() });
  }

  /** Events sent again after a failed send: they may be in the source twice, so their jobs too. */
  republished(eventIds: string[]): void {
    for (const id of eventIds) this.republishedEvents.add(id);
  }

  mark(label: string): void {
    this.marks.push({ at: Date.now(), label });
  }

  /** A fault (a kill, a broker stopped or back): duplicates must stay within the attempts in flight around it. */
  fault(label: string): void {
    this.marks.push({ at: Date.now(), label, fault: true });
  }

  /** The delivery attempts in flight at `at`, summed over the delivery processes (see LoadRun). */
  inFlight(at: number, count: number): void {
    this.inFlightSamples.push({ at, count });
  }

  /** A request at the receiver (tap it with `receiver.tap(r => ledger.receive(r))`). */
  receive(request: ReceivedRequest): void {
    const subscriptionId = this.subscriptionOf(request.path);
    let eventId: unknown;
    try {
      eventId = (JSON.parse(request.body) as { data?: { eid?: unknown } }).data?.eid;
    } catch {
      eventId = undefined;
    }
    const pair = subscriptionId && typeof eventId === 'string' ? this.pairs.get(pairKey(eventId, subscriptionId)) : undefined;
    if (!pair) {
      this.unexpected++;
      return;
    }
    pair.receipts.push({ at: request.at, deliveryId: String(request.headers['x-webhook-delivery-id']), attempt: String(request.headers['x-webhook-attempt']) });
    pair.webhookIds.add(String(request.headers['webhook-id']));
  }

  deadLetter(letter: DeadLetter): void {
    const pair = this.pairs.get(pairKey(letter.job.eventId, letter.job.subscriptionId));
    if (pair) pair.deadLettered = true;
  }

  /** A result record of webhooks.results. */
  result(result: AttemptResult): void {
    this.resultsRead = true;
    if (this.results.get(result.deliveryId)?.delivered) return;
    this.results.set(result.deliveryId, { delivered: result.outcome === 'delivered', reason: result.reason });
  }

  /** A delivery job read at `position` (`partition@offset` of webhooks.deliveries). */
  job(job: DeliveryJob, position: string): void {
    this.jobsRead = true;
    this.pairs.get(pairKey(job.eventId, job.subscriptionId))?.jobs.add(position);
  }

  /** Pairs neither received nor dead-lettered yet. */
  get outstanding(): number {
    let n = 0;
    for (const p of this.pairs.values()) if (p.receipts.length === 0 && !p.deadLettered) n++;
    return n;
  }

  /** Pairs whose delivery job has not been read yet. */
  get jobsMissing(): number {
    let n = 0;
    for (const p of this.pairs.values()) if (p.jobs.size === 0) n++;
    return n;
  }

  report(): AccountingReport {
    const r: AccountingReport = {
      scenario: this.scenario,
      published: this.published,
      expected: this.pairs.size,
      delivered: 0,
      deadLettered: 0,
      lost: 0,
      duplicates: 0,
      splitIds: 0,
      unexpected: this.unexpected,
      republished: this.republishedEvents.size,
      sourceRepeats: 0,
      duplicateWindows: {},
    };
    const marks = [...this.marks].sort((a, b) => a.at - b.at);
    r.marks = marks.map((m) => ({ at: new Date(m.at).toISOString(), label: m.label }));
    let duplicateJobs = 0;
    const causes = { afterFailedAttempt: 0, outcomeUnwritten: 0, outcomeWritten: 0 };
    const failedAttemptReasons: Record<string, number> = {};
    const writtenRepeats: Record<string, number> = {};
    const duplicateSamples: NonNullable<AccountingReport['duplicateSamples']> = [];
    for (const [key, p] of this.pairs) {
      if (p.receipts.length > 0) r.delivered++;
      else if (p.deadLettered) r.deadLettered++;
      else r.lost++;
      if (p.webhookIds.size > 1) r.splitIds++;
      const republished = this.republishedEvents.has(key.slice(0, key.indexOf('|')));
      if (p.jobs.size > 1 && !republished) duplicateJobs++;
      // An event in the source twice is owed one receipt per job.
      const owed = republished ? Math.max(1, p.jobs.size) : 1;
      const receipts = [...p.receipts].sort((a, b) => a.at - b.at);
      if (receipts.length > owed && duplicateSamples.length < 20) {
        duplicateSamples.push({
          pair: key,
          receipts: receipts.map((x) => {
            const result = this.results.get(x.deliveryId);
            return { at: new Date(x.at).toISOString(), deliveryId: x.deliveryId, attempt: x.attempt, result: result && (result.delivered ? 'delivered' : result.reason) };
          }),
        });
      }
      for (const [i, { at, attempt }] of receipts.entries()) {
        if (i === 0) continue;
        if (i < owed) {
          r.sourceRepeats++;
          continue;
        }
        r.duplicates++;
        // The attempt received just before this one: what did the gateway learn of it?
        const before = this.results.get(receipts[i - 1]!.deliveryId);
        if (before === undefined) causes.outcomeUnwritten++;
        else if (before.delivered) {
          causes.outcomeWritten++;
          const repeat = `${receipts[i - 1]!.attempt}→${attempt}`;
          writtenRepeats[repeat] = (writtenRepeats[repeat] ?? 0) + 1;
        } else {
          causes.afterFailedAttempt++;
          failedAttemptReasons[before.reason] = (failedAttemptReasons[before.reason] ?? 0) + 1;
        }
        const window = marks.filter((m) => m.at <= at).at(-1)?.label ?? 'before any fault';
        r.duplicateWindows[window] = (r.duplicateWindows[window] ?? 0) + 1;
      }
    }
    if (this.jobsRead) r.duplicateJobs = duplicateJobs;
    if (this.resultsRead) Object.assign(r, { duplicateCauses: causes, failedAttemptReasons, writtenRepeats, duplicateSamples });
    if (this.inFlightSamples.length > 0) {
      r.faults = marks.flatMap((m, i) => (m.fault ? [this.inFlightAround(m, marks[i + 1]?.at ?? Number.POSITIVE_INFINITY)] : []));
      r.duplicateBound = r.faults.reduce((sum, f) => sum + f.atFault, 0);
      r.inFlightAfterFaults = r.faults.reduce((sum, f) => sum + f.untilNextMark, 0);
    }
    return r;
  }

  private inFlightAround(fault: Mark, until: number): FaultInFlight {
    const window = this.inFlightSamples.filter((s) => s.at <= fault.at && s.at > fault.at - AT_FAULT_WINDOW_MS).map((s) => s.count);
    const before = Math.max(this.inFlightSamples.filter((s) => s.at <= fault.at).at(-1)?.count ?? 0, ...window);
    const during = this.inFlightSamples.filter((s) => s.at > fault.at && s.at < until).map((s) => s.count);
    return { label: fault.label, atFault: before, untilNextMark: Math.max(before, ...during) };
  }
}

/** Prints the report as one block and keeps it in CHAOS_REPORT_DIR (default .cache/chaos-reports) as JSON. */
export function publishReport(report: AccountingReport): void {
  const dir = process.env.CHAOS_REPORT_DIR ?? '.cache/chaos-reports';
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${report.scenario}.json`, `${JSON.stringify({ ...report, at: new Date().toISOString() }, null, 2)}\n`);
  const windows = Object.entries(report.duplicateWindows).map(([k, v]) => `${v} after ${k}`);
  const lines = [
    `accounting: ${report.scenario}`,
    `  published ${report.published} events → ${report.expected} (event, subscription) pairs`,
    `  delivered ${report.delivered}, dead-lettered ${report.deadLettered}, lost ${report.lost}`,
    `  duplicates ${report.duplicates}${windows.length ? ` (${windows.join('; ')})` : ''}, split webhook-ids ${report.splitIds}, unexpected ${report.unexpected}`,
    ...(report.duplicateCauses === undefined
      ? []
      : [
          `  duplicates after an attempt the gateway saw fail ${report.duplicateCauses.afterFailedAttempt} (${JSON.stringify(report.failedAttemptReasons)}), after one whose outcome was never written ${report.duplicateCauses.outcomeUnwritten}, after one whose outcome was written ${report.duplicateCauses.outcomeWritten} (attempts ${JSON.stringify(report.writtenRepeats)})`,
        ]),
    ...(report.duplicateBound === undefined
      ? []
      : [`  bound on duplicates the faults may cost (jobs read and not committed at each fault, summed) ${report.duplicateBound}; from each fault to the next mark ${report.inFlightAfterFaults}`]),
    ...(report.duplicateJobs === undefined ? [] : [`  duplicate delivery jobs (producer side) ${report.duplicateJobs}`]),
    ...(report.republished
      ? [`  events the load generator had to publish again (its producer failed) ${report.republished}; their second receipts, one per job (not duplicates) ${report.sourceRepeats}`]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
