import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import { GatewayMetrics, Readiness } from '@app/runtime';
import { type Decoded, SchemaDecoder, wireSchemaId } from './schemas/schema-decoder.js';
import { HttpSchemaSource, RegistryUnavailable, type SchemaSource } from './schemas/schema-registry-client.js';

/** A test's schema registry instead of the one SCHEMA_REGISTRY_URL names. */
export const SCHEMA_SOURCE = Symbol('SCHEMA_SOURCE');

/** How long a batch waits in place for an unavailable registry before it is handed back to be read again. */
export interface RegistryWaits {
  firstMs: number;
  maxMs: number;
  /** Below the transaction timeout (60 s) and far below the consumer session's, which heartbeats meanwhile. */
  totalMs: number;
}
export const REGISTRY_WAITS: RegistryWaits = { firstMs: 250, maxMs: 5_000, totalMs: 20_000 };
/** A test's waits instead of REGISTRY_WAITS. */
export const SOURCE_DECODER_WAITS = Symbol('SOURCE_DECODER_WAITS');

/** What decoding did to one record: its decoded value and key, or why it is invalid. */
export interface RecordDecoding {
  /** The decoded value (undefined: the value was not in the wire format, read it as it is). */
  value?: unknown;
  /** The decoded key as text. */
  key?: string;
  /** Why the record cannot be read. */
  invalid?: string;
}

/**
 * Decodes the Confluent wire-format records of the source topics SCHEMA_REGISTRY_TOPICS names
 * (and their keys with SCHEMA_REGISTRY_DECODE_KEYS) before they are read as events. Values that
 * are not in the wire format (no magic byte 0, under 5 bytes) are left to the JSON reader. A
 * registry that cannot answer is waited for with back-off, in place, up to `totalMs`; then the
 * batch fails and its runner reads it again. Meanwhile /readyz names the registry.
 */
@Injectable()
export class SourceDecoder {
  private readonly logger = new Logger(SourceDecoder.name);
  private readonly decoder?: SchemaDecoder;
  private readonly topics: ReadonlySet<string> | 'all';
  private readonly decodeKeys: boolean;
  private readonly maxEventBytes: number;
  private unavailable?: string;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
    readiness: Readiness,
    @Optional() @Inject(SCHEMA_SOURCE) source?: SchemaSource,
    @Optional() @Inject(SOURCE_DECODER_WAITS) private readonly waits: RegistryWaits = REGISTRY_WAITS,
  ) {
    const settings = config.source.schemaRegistry;
    this.topics = settings.topics.includes('*') ? 'all' : new Set(settings.topics);
    this.decodeKeys = settings.decodeKeys;
    this.maxEventBytes = config.source.maxEventBytes;
    if (settings.urls.length === 0 && !source) return;
    this.decoder = new SchemaDecoder(source ?? new HttpSchemaSource(settings));
    readiness.register('schema-registry', () => (this.unavailable ? `the schema registry is unreachable: ${this.unavailable}` : undefined));
  }

  /** Per record of the batch, what decoding made of it; undefined when the topic is not decoded. Throws RegistryUnavailable once the wait is over. */
  async decodeBatch(topic: string, messages: readonly { key?: Buffer | null; value: Buffer | null }[]): Promise<RecordDecoding[] | undefined> {
    if (!this.decoder || (this.topics !== 'all' && !this.topics.has(topic))) return undefined;
    const out: RecordDecoding[] = [];
    for (const message of messages) {
      const decoding: RecordDecoding = {};
      // A value over MAX_EVENT_BYTES is not decoded: the reader refuses it for its size.
      if (wireSchemaId(message.value) !== undefined && message.value!.length <= this.maxEventBytes) {
        const value = await this.decode(message.value!);
        if (value.ok) decoding.value = value.value;
        else decoding.invalid = value.reason;
      }
      if (this.decodeKeys && !decoding.invalid && wireSchemaId(message.key) !== undefined) {
        const key = await this.decode(message.key!);
        if (key.ok) decoding.key = typeof key.value === 'string' ? key.value : JSON.stringify(key.value);
        else decoding.invalid = `key: ${key.reason}`;
      }
      out.push(decoding);
    }
    return out;
  }

  private async decode(value: Buffer): Promise<Decoded> {
    const began = Date.now();
    let delay = this.waits.firstMs;
    for (;;) {
      try {
        const decoded = await this.decoder!.decode(value);
        if (this.unavailable) this.logger.log('The schema registry answers again');
        this.unavailable = undefined;
        return decoded;
      } catch (err) {
        if (!(err instanceof RegistryUnavailable)) throw err;
        this.metrics.schemaRegistryErrors.inc();
        if (!this.unavailable) this.logger.warn(`${err.message}: source batches wait for it`);
        this.unavailable = err.message;
        if (Date.now() - began + delay > this.waits.totalMs) throw new RegistryUnavailable(`${err.message} (waited ${Date.now() - began} ms; the batch is read again)`);
        this.metrics.schemaRegistryWaits.inc();
        await sleep(delay);
        delay = Math.min(delay * 2, this.waits.maxMs);
      }
    }
  }
}
