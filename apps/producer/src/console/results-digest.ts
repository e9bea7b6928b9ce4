import {
  type AttemptResult,
  type BreakerState,
  HELD_BACK_REASONS,
  type LastErrorView,
  OUTCOMES,
  type Outcome,
  RECENT_ATTEMPTS,
  type SubscriptionHealthView,
} from '@app/contracts';

/** The success rate is over this many of a subscription's latest HTTP attempts. */
export const SUCCESS_RATE_WINDOW = 100;
/** Subscriptions tracked at most; the one without a result for the longest is forgotten first. */
export const MAX_TRACKED_SUBSCRIPTIONS = 10_000;
/** A `circuit_open` result this recent (and no delivery since) shows the breaker as open. */
export const BREAKER_HINT_MS = 60_000;
/**
 * Characters of attempts' recorded request bodies (`requestBody`, transformed subscriptions) kept in
 * all; past it the oldest kept bodies are dropped (the attempt detail then says the body is not kept).
 */
export const MAX_KEPT_REQUEST_BODY_CHARS = 64 * 1024 * 1024;

interface Tracked {
  outcomes: Record<Outcome, number>;
  /** Newest first, at most RECENT_ATTEMPTS. */
  recent: AttemptResult[];
  /** Whether each of the latest HTTP attempts was delivered, oldest first. */
  window: boolean[];
  lastAttemptAt?: string;
  lastError?: LastErrorView;
  circuitOpenAt?: number;
  dlqCount: number;
}

const isAttempt = (r: AttemptResult) => r.outcome !== 'skipped' && !HELD_BACK_REASONS.includes(r.reason);

/**
 * What the delivery console shows per subscription, folded from the results and
 * dlq topics in log order. Pure and bounded: RECENT_ATTEMPTS results and
 * SUCCESS_RATE_WINDOW flags per subscription, MAX_TRACKED_SUBSCRIPTIONS subscriptions.
 */
export class ResultsDigest {
  private readonly tracked = new Map<string, Tracked>();
  /** Results kept with a request body, oldest first, and the characters of those bodies. */
  private readonly bodies: AttemptResult[] = [];
  private bodyChars = 0;

  constructor(
    private readonly maxTracked = MAX_TRACKED_SUBSCRIPTIONS,
    private readonly maxBodyChars = MAX_KEPT_REQUEST_BODY_CHARS,
  ) {}

  get size(): number {
    return this.tracked.size;
  }

  addResult(added: AttemptResult): void {
    const result = this.keepBody(added);
    const t = this.touch(result.subscriptionId);
    t.outcomes[result.outcome]++;
    t.recent.unshift(result);
    if (t.recent.length > RECENT_ATTEMPTS) t.recent.pop();
    if (result.outcome === 'delivered') t.circuitOpenAt = undefined;
    if (result.reason === 'circuit_open') t.circuitOpenAt = Date.parse(result.finishedAt);
    if (!isAttempt(result)) return;
    const delivered = result.outcome === 'delivered';
    t.window.push(delivered);
    if (t.window.length > SUCCESS_RATE_WINDOW) t.window.shift();
    t.lastAttemptAt = result.startedAt;
    if (!delivered) t.lastError = { reason: result.reason, status_code: result.statusCode, message: result.error?.message, at: result.startedAt };
  }

  addDeadLetter(subscriptionId: string): void {
    this.touch(subscriptionId).dlqCount++;
  }

  has(subscriptionId: string): boolean {
    return this.tracked.has(subscriptionId);
  }

  /** Newest first. */
  attempts(subscriptionId: string, limit = RECENT_ATTEMPTS): AttemptResult[] {
    return this.tracked.get(subscriptionId)?.recent.slice(0, limit) ?? [];
  }

  health(subscriptionId: string, now = Date.now()): SubscriptionHealthView {
    const t = this.tracked.get(subscriptionId) ?? blank();
    const successes = t.window.filter(Boolean).length;
    const breaker: BreakerState = t.circuitOpenAt !== undefined && now - t.circuitOpenAt < BREAKER_HINT_MS ? 'open' : 'closed';
    return {
      outcomes: { ...t.outcomes },
      success_rate: t.window.length === 0 ? null : successes / t.window.length,
      rate_window: t.window.length,
      last_attempt_at: t.lastAttemptAt,
      last_error: t.lastError,
      breaker,
      dlq_count: t.dlqCount,
    };
  }

  /** A copy of the result whose request body counts against the budget; the oldest kept bodies are dropped past it. */
  private keepBody(added: AttemptResult): AttemptResult {
    if (added.requestBody === undefined) return added;
    const result = { ...added };
    this.bodies.push(result);
    this.bodyChars += result.requestBody!.length;
    // Also never more results held for their body than the digest keeps results.
    while (this.bodyChars > this.maxBodyChars || this.bodies.length > this.maxTracked * RECENT_ATTEMPTS) {
      const oldest = this.bodies.shift()!;
      this.bodyChars -= oldest.requestBody!.length;
      delete oldest.requestBody;
    }
    return result;
  }

  /** The subscription's entry, moved to the most recent end; the least recent beyond the cap is dropped. */
  private touch(subscriptionId: string): Tracked {
    const t = this.tracked.get(subscriptionId) ?? blank();
    this.tracked.delete(subscriptionId);
    this.tracked.set(subscriptionId, t);
    if (this.tracked.size > this.maxTracked) this.tracked.delete(this.tracked.keys().next().value!);
    return t;
  }
}

function blank(): Tracked {
  return { outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>, recent: [], window: [], dlqCount: 0 };
}
