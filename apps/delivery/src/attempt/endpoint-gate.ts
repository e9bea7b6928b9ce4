import { REASONS } from '../delivery-policy.js';
import { CircuitBreakers } from './circuit-breaker.js';

/** What the gate says before an attempt: go (give the ticket back with `finish`), or hold the job back. */
export type Admission = { go: true; ticket: Ticket } | { go: false; reason: string; waitMs: number };

/** An attempt let through: which endpoint and host it counts against. */
export interface Ticket {
  readonly endpoint: string;
  readonly origin: string;
  readonly started: number;
  readonly probe: boolean;
}

/** How an attempt ended, for the breakers and the queue estimate. */
export interface AttemptReport {
  /** The endpoint answered well, or gave a final answer (410): nothing a breaker should count. */
  ok: boolean;
  /** A connection was made (any HTTP answer): the host is reachable, whatever the path did. */
  hostReached: boolean;
  /** Nothing was sent to the endpoint (its OAuth2 token could not be had): no breaker learns anything from it. */
  notSent?: boolean;
}

interface Waiter {
  resolve: (admission: Admission) => void;
  probe: boolean;
  /** When it was queued: it gives up after maxQueueWaitMs (the endpoint turned out slower than estimated, or had no estimate yet). */
  since: number;
  /** The probes it was granted (given back if it gives up). */
  hostProbe: boolean;
  endpointProbe: boolean;
}

interface EndpointLoad {
  origin: string;
  inFlight: number;
  /** Start times of the attempts in flight (the oldest tells a hanging endpoint before any attempt ends). */
  readonly starts: Set<Ticket>;
  readonly queue: Waiter[];
  /** Moving average of attempt durations (ms); undefined until one attempt ended. */
  averageMs?: number;
}

/** Endpoints remembered while idle (their average attempt duration); past that, idle ones are forgotten as they go idle. */
const MAX_IDLE_ENDPOINTS = 10_000;

/** How often queued jobs are checked for having waited too long. */
const SWEEP_MS = 100;

/** Weight of the newest duration in the moving average. */
const AVERAGE_WEIGHT = 0.2;

/**
 * Protection per endpoint (a subscription's target URL), with its host underneath.
 *
 * - A circuit breaker per endpoint counts its failed attempts (timeouts, 5xx, resets): a failing
 *   or hanging path is held back, the other paths of its host are not.
 * - A breaker per host (origin) counts only failures to reach it (refused, connect timeout, DNS,
 *   TLS): a host that is down is held back as a whole, whichever path is tried.
 * - At most `cap` attempts per endpoint are in flight. A job that finds its endpoint full waits
 *   in that endpoint's queue in memory (it keeps its place in the process's in-flight budget, so
 *   memory stays bounded and partitions pause when the budget is spent) unless the queue ahead of
 *   it would take longer than `maxQueueWaitMs` to drain, estimated from the endpoint's recent
 *   attempt durations and its oldest attempt in flight, and a queued job gives up after that long
 *   (within 0.1 s: the endpoint turned out slower, or had no estimate yet). So a fast, busy endpoint keeps its
 *   jobs here, and a slow or hanging one holds a bounded share of the budget for a bounded time:
 *   the rest of its jobs are held back on a retry tier.
 * - When an endpoint's (or its host's) breaker opens, the jobs queued for it are held back too.
 *
 * The per-origin connection pool underneath (DELIVERY_CONNECTIONS_PER_ORIGIN) is undici's.
 * Pure apart from the queue's promises: the caller passes the time.
 */
export class EndpointGate {
  private readonly endpoints = new Map<string, EndpointLoad>();
  private readonly breakers: CircuitBreakers;
  private readonly hosts: CircuitBreakers;
  private sweepTimer?: NodeJS.Timeout;

  constructor(
    private readonly cap: number,
    breakerThreshold: number,
    breakerCooldownMs: number,
    private readonly maxQueueWaitMs: number,
  ) {
    this.breakers = new CircuitBreakers(breakerThreshold, breakerCooldownMs);
    this.hosts = new CircuitBreakers(breakerThreshold, breakerCooldownMs);
  }

  admit(endpoint: string, origin: string, now: number): Admission | Promise<Admission> {
    const host = this.hosts.before(origin, now);
    if (!host.allow) return { go: false, reason: REASONS.hostCircuitOpen, waitMs: host.retryAt - now };
    const breaker = this.breakers.before(endpoint, now);
    if (!breaker.allow) {
      if (host.probe) this.hosts.cancelProbe(origin);
      return { go: false, reason: REASONS.circuitOpen, waitMs: breaker.retryAt - now };
    }
    const probe = host.probe || breaker.probe;
    const load = this.load(endpoint, origin);
    if (load.inFlight < this.cap) return { go: true, ticket: this.start(load, endpoint, now, probe) };
    const drainMs = this.drainEstimate(load, now);
    if (drainMs > this.maxQueueWaitMs) {
      this.cancelProbes(endpoint, origin, host.probe, breaker.probe);
      return { go: false, reason: REASONS.endpointBusy, waitMs: Math.max(drainMs, 1) };
    }
    return new Promise<Admission>((resolve) => {
      load.queue.push({ resolve, probe, since: now, hostProbe: host.probe, endpointProbe: breaker.probe });
      this.sweepTimer ??= setTimeout(() => this.sweep(), SWEEP_MS);
    });
  }

  /**
   * Jobs queued longer than maxQueueWaitMs give up (held back as `endpoint_busy`). Queues are in
   * arrival order, so only their heads are looked at; one timer for all queues, running while any
   * job waits, rather than a timer per queued job.
   */
  private sweep(): void {
    this.sweepTimer = undefined;
    const now = Date.now();
    let waiting = false;
    for (const [endpoint, load] of this.endpoints) {
      while (load.queue.length > 0 && now - load.queue[0]!.since >= this.maxQueueWaitMs) {
        const w = load.queue.shift()!;
        this.cancelProbes(endpoint, load.origin, w.hostProbe, w.endpointProbe);
        w.resolve({ go: false, reason: REASONS.endpointBusy, waitMs: Math.max(this.drainEstimate(load, now), 1) });
      }
      if (load.queue.length > 0) waiting = true;
    }
    if (waiting) this.sweepTimer = setTimeout(() => this.sweep(), SWEEP_MS);
  }

  /** The attempt ended: breakers and the estimate learn from it, and its slot passes to the next job queued for the endpoint. */
  finish(ticket: Ticket, report: AttemptReport, now: number): void {
    const { endpoint, origin } = ticket;
    // A probe that sent nothing is given back (the ticket does not say which breaker granted it: both are).
    if (report.notSent) this.cancelProbes(endpoint, origin, ticket.probe, ticket.probe);
    else {
      this.hosts.after(origin, report.hostReached, now);
      this.breakers.after(endpoint, report.ok, now);
    }
    const load = this.endpoints.get(endpoint);
    if (!load) return;
    load.starts.delete(ticket);
    const took = now - ticket.started;
    load.averageMs = load.averageMs === undefined ? took : load.averageMs + AVERAGE_WEIGHT * (took - load.averageMs);
    load.inFlight--;
    if (!this.breakers.isOpen(endpoint, now) && !this.hosts.isOpen(origin, now)) {
      const next = load.queue.shift();
      if (next) next.resolve({ go: true, ticket: this.start(load, endpoint, now, next.probe) });
    } else {
      this.holdQueued(endpoint, load, now);
    }
    // An idle endpoint keeps its average for the next burst, unless too many are remembered.
    if (load.inFlight === 0 && load.queue.length === 0 && this.breakers.isClosed(endpoint) && this.endpoints.size > MAX_IDLE_ENDPOINTS) this.endpoints.delete(endpoint);
  }

  /** Attempts in flight to an endpoint. */
  inFlight(endpoint: string): number {
    return this.endpoints.get(endpoint)?.inFlight ?? 0;
  }

  /** Jobs waiting in an endpoint's queue. */
  queued(endpoint: string): number {
    return this.endpoints.get(endpoint)?.queue.length ?? 0;
  }

  /** Open breakers now, endpoints and hosts (for metrics). */
  openCount(now: number): number {
    return this.breakers.openCount(now) + this.hosts.openCount(now);
  }

  private load(endpoint: string, origin: string): EndpointLoad {
    let load = this.endpoints.get(endpoint);
    if (!load) this.endpoints.set(endpoint, (load = { origin, inFlight: 0, starts: new Set(), queue: [] }));
    return load;
  }

  private start(load: EndpointLoad, endpoint: string, now: number, probe: boolean): Ticket {
    load.inFlight++;
    const ticket: Ticket = { endpoint, origin: load.origin, started: now, probe };
    load.starts.add(ticket);
    return ticket;
  }

  /** How long the jobs queued for the endpoint, and one more, would take to get a slot. */
  private drainEstimate(load: EndpointLoad, now: number): number {
    let oldest = now;
    for (const t of load.starts) if (t.started < oldest) oldest = t.started;
    const perAttempt = Math.max(load.averageMs ?? 0, now - oldest);
    return ((load.queue.length + 1) * perAttempt) / this.cap;
  }

  /** The endpoint's (or host's) breaker opened: its queued jobs are held back until the cool-down ends. */
  private holdQueued(endpoint: string, load: EndpointLoad, now: number): void {
    const hostRetryAt = this.hosts.retryAt(load.origin, now);
    const held: Admission =
      hostRetryAt !== undefined
        ? { go: false, reason: REASONS.hostCircuitOpen, waitMs: hostRetryAt - now }
        : { go: false, reason: REASONS.circuitOpen, waitMs: Math.max(1, (this.breakers.retryAt(endpoint, now) ?? now) - now) };
    for (const w of load.queue.splice(0)) w.resolve(held);
  }

  private cancelProbes(endpoint: string, origin: string, hostProbe: boolean, endpointProbe: boolean): void {
    if (hostProbe) this.hosts.cancelProbe(origin);
    if (endpointProbe) this.breakers.cancelProbe(endpoint);
  }
}
