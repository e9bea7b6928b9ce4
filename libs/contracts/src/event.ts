/**
 * A source event as the gateway normalises it, whatever its wire form
 * (CloudEvents structured or binary, or plain JSON). Filters and bodies are
 * computed from this shape only.
 */
export interface GatewayEvent {
  id: string;
  type: string;
  source: string;
  /** RFC 3339 time of the occurrence; the time the gateway read it when the event had none. */
  time: string;
  subject?: string;
  tenant?: string;
  datacontenttype?: string;
  data: unknown;
  /** CloudEvents extension attributes, when the event had any. */
  extensions?: Record<string, unknown>;
  /** W3C trace context carried by the event's Kafka headers. */
  traceparent?: string;
  /** A per-event callback target the event carries (Edgegap `webhook_url`, Deep Image `webhooks.complete`, a `webhook-url` header). */
  callbackUrl?: string;
  /**
   * The source Kafka record's headers, for filters (`headers.<name>`): names lower-cased, values
   * as UTF-8 text; at most 64, values over 1 KiB left out. Never rendered into a body.
   */
  headers?: Record<string, string>;
  /** True when the event came as a CloudEvent (either mode). */
  cloudevent: boolean;
}
