import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const PREFIX = 'webhook_gateway_';

/** `2xx` … `5xx` for an HTTP status; `none` when no answer came (a transport error, or no request was made). */
export const statusClass = (status: number | undefined): string => (status === undefined ? 'none' : `${Math.floor(status / 100)}xx`);

/**
 * The process's Prometheus metrics, in a registry of its own (two apps may share
 * a process in tests). Each app updates the ones that concern it; both expose
 * all of them at /metrics, with the Node process metrics.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly eventsConsumed = new Counter({ name: `${PREFIX}events_consumed_total`, help: 'Source records read by the producer app', labelNames: ['topic'], registers: [this.registry] });
  readonly eventsInvalid = new Counter({ name: `${PREFIX}events_invalid_total`, help: 'Source records sent to the invalid topic', labelNames: ['topic'], registers: [this.registry] });
  readonly schemaRegistryErrors = new Counter({
    name: `${PREFIX}schema_registry_errors_total`,
    help: 'Schema registry requests without a usable answer (unreachable, timeout, 5xx, refused credentials); the source batch waited or was read again, nothing went to the invalid topic',
    registers: [this.registry],
  });
  readonly schemaRegistryWaits = new Counter({ name: `${PREFIX}schema_registry_waits_total`, help: 'Back-off waits of source batches for the schema registry', registers: [this.registry] });
  readonly jobsProduced = new Counter({ name: `${PREFIX}jobs_produced_total`, help: 'Delivery jobs written (one per matched subscription and per-event callback)', registers: [this.registry] });
  readonly attempts = new Counter({
    name: `${PREFIX}attempts_total`,
    help: 'Attempts by outcome and HTTP status class (result records; held-back jobs count with status class none)',
    labelNames: ['outcome', 'status_class'],
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: `${PREFIX}attempt_duration_seconds`,
    help: 'Duration of attempts that sent a request',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly retries = new Counter({ name: `${PREFIX}retries_scheduled_total`, help: 'Records written to each retry tier (next attempts, hops and held-back jobs)', labelNames: ['tier'], registers: [this.registry] });
  readonly deadLetters = new Counter({ name: `${PREFIX}dead_letters_total`, help: 'Jobs written to the dead-letter topic', registers: [this.registry] });
  readonly inFlight = new Gauge({ name: `${PREFIX}in_flight`, help: 'Jobs being worked on by this delivery process', registers: [this.registry] });
  readonly uncommitted = new Gauge({
    name: `${PREFIX}uncommitted_records`,
    help: 'Records this process has read and handed out past their partition\'s committed offset (finished or not): what a crash would make it read again',
    labelNames: ['group'],
    registers: [this.registry],
  });
  readonly breakersOpen = new Gauge({ name: `${PREFIX}circuit_breakers_open`, help: 'Endpoints whose circuit breaker is open in this process', registers: [this.registry] });
  readonly consumerLag = new Gauge({
    name: `${PREFIX}consumer_lag`,
    help: 'Records behind the partition end, as of the last batch this process read from the partition',
    labelNames: ['group', 'topic', 'partition'],
    registers: [this.registry],
  });

  private readonly beforeScrape: (() => void)[] = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /** Sets gauges that are read from state at scrape time (in flight, open breakers). */
  onScrape(update: () => void): void {
    this.beforeScrape.push(update);
  }

  scrape(): Promise<string> {
    for (const update of this.beforeScrape) update();
    return this.registry.metrics();
  }
}

/** Prometheus scrape endpoint (unauthenticated, like the probes). */
@ApiExcludeController()
@Controller()
export class MetricsController {
  constructor(private readonly metrics: GatewayMetrics) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
