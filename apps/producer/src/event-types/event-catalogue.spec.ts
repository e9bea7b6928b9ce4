import type { GatewayEvent } from '@app/contracts';
import { decodeEventTypeEntry, EventCatalogue, eventTypeKey, MAX_TYPES_PER_TENANT, REWRITE_AFTER_MS, SAMPLE_MAX_BYTES, sampleOf } from './event-catalogue.js';

const event = (over: Partial<GatewayEvent> = {}): GatewayEvent => ({
  id: 'e1',
  type: 'order.created',
  source: '/shop',
  time: '2026-01-01T00:00:00.000Z',
  subject: 'o-1',
  data: { total: 12 },
  headers: { authorization: 'Bearer secret' },
  cloudevent: true,
  ...over,
});
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** What every instance does: write what observe returns, then read it back from the topic. */
function observeAndApply(catalogue: EventCatalogue, e: GatewayEvent, now: number) {
  const entry = catalogue.observe(e, now);
  if (entry) catalogue.apply(eventTypeKey(entry.tenant, entry.type), JSON.parse(JSON.stringify(entry)));
  return entry;
}

describe('sampleOf', () => {
  it('keeps id, source, time, subject and data, never the record headers', () => {
    const sample = sampleOf(event());
    expect(sample).toEqual({ id: 'e1', source: '/shop', time: '2026-01-01T00:00:00.000Z', subject: 'o-1', data: { total: 12 } });
    expect(JSON.stringify(sample)).not.toContain('secret');
  });

  it('keeps a sample of exactly 4 KiB, and a bigger one only as its size', () => {
    const base = Buffer.byteLength(JSON.stringify(sampleOf(event({ data: '' }))));
    const fits = event({ data: 'x'.repeat(SAMPLE_MAX_BYTES - base) });
    expect(Buffer.byteLength(JSON.stringify(sampleOf(fits)))).toBe(SAMPLE_MAX_BYTES);
    expect(sampleOf(fits).data).toBe(fits.data);
    const big = event({ data: 'x'.repeat(SAMPLE_MAX_BYTES - base + 1) });
    expect(sampleOf(big)).toEqual({ truncated: true, bytes: SAMPLE_MAX_BYTES + 1 });
  });
});

describe('EventCatalogue', () => {
  it('writes a type new to the instance once, then again only after 10 minutes', () => {
    const catalogue = new EventCatalogue();
    const first = catalogue.observe(event(), T0);
    expect(first).toEqual({ type: 'order.created', first_seen_at: '2026-01-01T00:00:00.000Z', last_seen_at: '2026-01-01T00:00:00.000Z', sample: sampleOf(event()) });
    // Not read back yet: still not written twice.
    expect(catalogue.observe(event({ id: 'e2' }), T0 + 1)).toBeUndefined();
    catalogue.apply(eventTypeKey(undefined, 'order.created'), first);
    expect(catalogue.observe(event({ id: 'e3' }), T0 + REWRITE_AFTER_MS)).toBeUndefined();
    const again = catalogue.observe(event({ id: 'e4' }), T0 + REWRITE_AFTER_MS + 1);
    expect(again).toMatchObject({ first_seen_at: '2026-01-01T00:00:00.000Z', last_seen_at: new Date(T0 + REWRITE_AFTER_MS + 1).toISOString(), sample: { id: 'e4' } });
  });

  it('does not write a type another instance wrote less than 10 minutes ago', () => {
    const catalogue = new EventCatalogue();
    const other = new EventCatalogue().observe(event(), T0)!;
    catalogue.apply(eventTypeKey(undefined, 'order.created'), other);
    expect(catalogue.observe(event(), T0 + 60_000)).toBeUndefined();
    expect(catalogue.observe(event(), T0 + REWRITE_AFTER_MS + 60_000)).toMatchObject({ first_seen_at: other.first_seen_at });
  });

  it('tries again at the next event after a failed write', () => {
    const catalogue = new EventCatalogue();
    const entry = catalogue.observe(event(), T0)!;
    catalogue.failed(entry, T0);
    expect(catalogue.observe(event(), T0 + 1)).toBeDefined();
  });

  it('shows a tenant its own types only, an operator every type, by type', () => {
    const catalogue = new EventCatalogue();
    for (const [tenant, type] of [['acme', 'z.last'], ['acme', 'a.first'], ['globex', 'm.middle'], [undefined, 'b.none']] as const) {
      observeAndApply(catalogue, event({ tenant, type }), T0);
    }
    expect(catalogue.list('acme').map((e) => e.type)).toEqual(['a.first', 'z.last']);
    expect(catalogue.list('globex').map((e) => [e.tenant, e.type])).toEqual([['globex', 'm.middle']]);
    expect(catalogue.list('initech')).toEqual([]);
    expect(catalogue.list(undefined).map((e) => e.type)).toEqual(['a.first', 'b.none', 'm.middle', 'z.last']);
    expect(catalogue.list(undefined, 2).map((e) => e.type)).toEqual(['a.first', 'b.none']);
  });

  it('keeps at most 1,000 types per tenant, written or read', () => {
    const catalogue = new EventCatalogue();
    for (let i = 0; i < MAX_TYPES_PER_TENANT; i++) expect(observeAndApply(catalogue, event({ tenant: 'acme', type: `t.${i}` }), T0)).toBeDefined();
    expect(catalogue.observe(event({ tenant: 'acme', type: 't.extra' }), T0)).toBeUndefined();
    // Another instance's write past the bound is not kept either.
    catalogue.apply(eventTypeKey('acme', 't.other'), { ...new EventCatalogue().observe(event({ tenant: 'acme', type: 't.other' }), T0)! });
    expect(catalogue.list('acme')).toHaveLength(MAX_TYPES_PER_TENANT);
    expect(catalogue.list('acme').some((e) => e.type === 't.other')).toBe(false);
    // Other tenants have bounds of their own; a known type is still rewritten.
    expect(catalogue.observe(event({ tenant: 'globex' }), T0)).toBeDefined();
    expect(catalogue.observe(event({ tenant: 'acme', type: 't.0' }), T0 + REWRITE_AFTER_MS + 1)).toBeDefined();
    // A tombstone frees a place.
    catalogue.apply(eventTypeKey('acme', 't.0'), undefined);
    expect(catalogue.observe(event({ tenant: 'acme', type: 't.extra' }), T0)).toBeDefined();
  });

  it('skips event types too long to be keys', () => {
    expect(new EventCatalogue().observe(event({ type: 'x'.repeat(257) }), T0)).toBeUndefined();
  });
});

describe('decodeEventTypeEntry', () => {
  it('reads an entry and refuses what is not one', () => {
    const entry = new EventCatalogue().observe(event({ tenant: 'acme' }), T0)!;
    expect(decodeEventTypeEntry(Buffer.from(JSON.stringify(entry)))).toEqual(entry);
    expect(() => decodeEventTypeEntry(Buffer.from('{"type":"a"}'))).toThrow('not an event type entry');
    expect(() => decodeEventTypeEntry(Buffer.from('null'))).toThrow('not an event type entry');
  });
});
