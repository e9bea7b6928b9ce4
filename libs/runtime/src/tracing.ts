import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { type Attributes, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** How often finished spans are sent to the collector. */
const EXPORT_DELAY_MS = 1_000;

/** A span in progress: its `traceparent` goes downstream (job, webhook request). */
export interface ActiveSpan {
  traceparent: string;
  set(attributes: Attributes): void;
  end(error?: string): void;
}

/**
 * OpenTelemetry spans, on when TRACING_OTLP_URL is set: the producer app makes a
 * `fan-out` span per event (a child of the event's `traceparent`) and the
 * delivery app a `webhook attempt` span per attempt (a child of the fan-out), and
 * each passes its own `traceparent` on, so a receiver's trace links back to the
 * service that published the event. Spans go to an OTLP/HTTP collector. The
 * provider is this app's own (not the global one): two apps may share a process.
 * Off, `start` returns undefined and costs nothing, and the event's
 * `traceparent` travels unchanged.
 */
@Injectable()
export class Tracing implements OnApplicationShutdown {
  private readonly provider?: TracerProvider;
  private readonly tracer?: Tracer;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    if (!config.tracing.otlpUrl) return;
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.tracing.serviceName }),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.tracing.otlpUrl }), scheduledDelayMillis: EXPORT_DELAY_MS })],
    });
    this.tracer = this.provider.getTracer('kafka-webhook-gateway');
  }

  get enabled(): boolean {
    return this.tracer !== undefined;
  }

  /** A new span, the child of `parent` (a W3C traceparent) when it is a valid one. */
  start(name: string, parent: string | undefined, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): ActiveSpan | undefined {
    if (!this.tracer) return undefined;
    const match = parent === undefined ? null : TRACEPARENT.exec(parent);
    const context = match ? trace.setSpanContext(ROOT_CONTEXT, { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16), isRemote: true }) : ROOT_CONTEXT;
    const span: Span = this.tracer.startSpan(name, { kind, attributes }, context);
    const own = span.spanContext();
    return {
      traceparent: `00-${own.traceId}-${own.spanId}-${own.traceFlags.toString(16).padStart(2, '0')}`,
      set: (more) => span.setAttributes(more),
      end: (error) => {
        if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        span.end();
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}

export { SpanKind };
