import { type EventTypeSample, type EventTypeView, type GatewayEvent, MAX_EVENT_TYPES } from '@app/contracts';

/** A sample whose JSON is bigger than this is kept as `{truncated: true, bytes}`. */
export const SAMPLE_MAX_BYTES = 4 * 1024;
/** An entry is written again (new last_seen_at and sample) once its last write is this old. */
export const REWRITE_AFTER_MS = 10 * 60_000;
/** At most this many event types are kept per tenant (and for events without one). */
export const MAX_TYPES_PER_TENANT = MAX_EVENT_TYPES;
/** Longer event types are not catalogued (they would be keys of the topic). */
export const MAX_TYPE_LENGTH = 256;

/** The value of a record on the event-types topic (key `<tenant or empty>/<type>`). */
export type EventTypeEntry = EventTypeView;

export const eventTypeKey = (tenant: string | undefined, type: string): string => `${tenant ?? ''}/${type}`;

/** The event as a sample: its id, source, time, subject and data, never its Kafka headers; over 4 KiB, only its size. */
export function sampleOf(event: GatewayEvent): EventTypeSample {
  const sample: EventTypeSample = { id: event.id, source: event.source, time: event.time, ...(event.subject === undefined ? {} : { subject: event.subject }), data: event.data };
  const bytes = Buffer.byteLength(JSON.stringify(sample), 'utf8');
  return bytes <= SAMPLE_MAX_BYTES ? sample : { truncated: true, bytes };
}

/** A record's value as an entry; throws when it is not one. */
export function decodeEventTypeEntry(value: Buffer): EventTypeEntry {
  const entry = JSON.parse(value.toString('utf8')) as Partial<EventTypeEntry> | null;
  const text = (v: unknown) => typeof v === 'string';
  if (!entry || !text(entry.type) || !text(entry.first_seen_at) || !text(entry.last_seen_at) || typeof entry.sample !== 'object' || entry.sample === null || (entry.tenant !== undefined && !text(entry.tenant))) {
    throw new Error('not an event type entry');
  }
  return entry as EventTypeEntry;
}

/**
 * The event catalogue of one instance: the entries read from the event-types topic (every
 * instance's writes), and which entries this instance should write for the events it fans out.
 * An entry is written when its type is new here or was last written more than 10 minutes ago,
 * so the topic gets at most one write per type per 10 minutes per instance. Bounded: at most
 * MAX_TYPES_PER_TENANT types per tenant.
 */
export class EventCatalogue {
  private readonly entries = new Map<string, EventTypeEntry>();
  /** Each entry's last_seen_at in ms, parsed once when it is read, not at every event. */
  private readonly lastSeen = new Map<string, number>();
  /** When this instance last wrote each key (before it is read back, and after). */
  private readonly written = new Map<string, number>();
  /** The keys known per tenant ('' for none): entries read and writes in flight. */
  private readonly perTenant = new Map<string, Set<string>>();

  /** A record of the topic, applied in log order (undefined: a tombstone). */
  apply(key: string, entry: EventTypeEntry | undefined): void {
    if (entry === undefined) {
      const gone = this.entries.get(key);
      this.entries.delete(key);
      this.lastSeen.delete(key);
      if (gone) this.perTenant.get(gone.tenant ?? '')?.delete(key);
      return;
    }
    if (!this.entries.has(key) && !this.claim(entry.tenant, key)) return;
    this.entries.set(key, entry);
    this.lastSeen.set(key, Date.parse(entry.last_seen_at));
  }

  /** The entry to write for this event now, or undefined when the catalogue already has it recently enough. */
  observe(event: GatewayEvent, now: number): EventTypeEntry | undefined {
    if (event.type.length === 0 || event.type.length > MAX_TYPE_LENGTH) return undefined;
    const key = eventTypeKey(event.tenant, event.type);
    const known = this.entries.get(key);
    const lastWrite = Math.max(this.written.get(key) ?? -Infinity, this.lastSeen.get(key) ?? -Infinity);
    if (now - lastWrite <= REWRITE_AFTER_MS) return undefined;
    const sample = sampleOf(event);
    if (!known && !this.written.has(key) && !this.claim(event.tenant, key)) return undefined;
    this.written.set(key, now);
    const at = new Date(now).toISOString();
    return {
      type: event.type,
      ...(event.tenant === undefined ? {} : { tenant: event.tenant }),
      first_seen_at: known?.first_seen_at ?? at,
      last_seen_at: at,
      sample,
    };
  }

  /** A write of `observe` failed: the next event of the type tries again. */
  failed(entry: EventTypeEntry, at: number): void {
    const key = eventTypeKey(entry.tenant, entry.type);
    if (this.written.get(key) !== at) return;
    this.written.delete(key);
    if (!this.entries.has(key)) this.perTenant.get(entry.tenant ?? '')?.delete(key);
  }

  /** The entries a caller sees (a tenant: its own; undefined: every one), by type, at most `limit`. */
  list(tenant: string | undefined, limit = MAX_EVENT_TYPES): EventTypeEntry[] {
    const seen = [...this.entries.values()].filter((e) => tenant === undefined || e.tenant === tenant);
    const order = (a: string | undefined, b: string | undefined) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
    return seen.sort((a, b) => order(a.type, b.type) || order(a.tenant, b.tenant)).slice(0, limit);
  }

  /** Counts the key against its tenant's bound; false when the tenant has its maximum already. */
  private claim(tenant: string | undefined, key: string): boolean {
    let keys = this.perTenant.get(tenant ?? '');
    if (!keys) this.perTenant.set(tenant ?? '', (keys = new Set()));
    if (keys.has(key)) return true;
    if (keys.size >= MAX_TYPES_PER_TENANT) return false;
    keys.add(key);
    return true;
  }
}
