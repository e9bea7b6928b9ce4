import { MAX_EVENT_HEADER_BYTES, MAX_EVENT_HEADERS, MAX_NESTING_DEPTH, readEvent, type SourceRecord } from './event-reader.js';

const options = {
  maxEventBytes: 1024,
  paths: { id: 'id', type: 'type', data: 'data', subject: 'subject', time: 'time' },
  tenantPath: 'tenant',
  callbacks: { urlPaths: ['data.webhook_url', 'data.webhooks.complete'], urlHeader: 'webhook-url' },
  now: () => new Date('2026-01-02T03:04:05.000Z'),
};
const json = (v: unknown, headers?: SourceRecord['headers']): SourceRecord => ({ value: Buffer.from(JSON.stringify(v)), headers });
const reason = (r: ReturnType<typeof readEvent>) => (r.ok ? 'ok' : r.reason);

describe('readEvent', () => {
  it('refuses events nested deeper than MAX_NESTING_DEPTH (they would overflow the stack when rendered)', () => {
    // The event object is level 1, its data level 2: data nested `depth` deep.
    const event = (depth: number) => ({ value: Buffer.from(`{"id":"d","type":"t","data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`) });
    const big = { ...options, maxEventBytes: 10_000_000 };
    expect(reason(readEvent(event(MAX_NESTING_DEPTH - 1), 'events', big))).toBe('ok');
    expect(reason(readEvent(event(MAX_NESTING_DEPTH), 'events', big))).toBe(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
    expect(reason(readEvent(event(200_000), 'events', big))).toBe(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
  });

  it('reads plain JSON {id, type, data}', () => {
    const r = readEvent(json({ id: 'e1', type: 'deployment.succeeded', data: { a: 1 }, tenant: 'acme' }), 'events', options);
    expect(r).toEqual({
      ok: true,
      event: expect.objectContaining({ id: 'e1', type: 'deployment.succeeded', data: { a: 1 }, tenant: 'acme', source: 'kafka:events', time: '2026-01-02T03:04:05.000Z', cloudevent: false }),
    });
  });

  it('reads structured CloudEvents with extensions and a traceparent header', () => {
    const ce = { specversion: '1.0', id: 'c1', source: '/deploys', type: 'deployment.failed', time: '2026-05-01T00:00:00Z', subject: 'app-1', tenant: 't1', data: { x: true } };
    const r = readEvent(json(ce, { traceparent: Buffer.from('00-abc-def-01') }), 'events', options);
    expect(r.ok && r.event).toEqual(
      expect.objectContaining({ id: 'c1', source: '/deploys', subject: 'app-1', tenant: 't1', data: { x: true }, extensions: { tenant: 't1' }, traceparent: '00-abc-def-01', cloudevent: true }),
    );
  });

  it('reads binary-mode CloudEvents from ce_ headers', () => {
    const r = readEvent(
      { value: Buffer.from('{"job":"j1"}'), headers: { ce_specversion: '1.0', ce_id: 'b1', ce_source: 'deep-image', ce_type: 'job.completed', 'content-type': 'application/json' } },
      'events',
      options,
    );
    expect(r.ok && r.event).toEqual(expect.objectContaining({ id: 'b1', type: 'job.completed', source: 'deep-image', data: { job: 'j1' }, cloudevent: true }));
  });

  it('keeps the record headers for filters: names lower-cased, UTF-8 text, bounded in size and number', () => {
    const headers: SourceRecord['headers'] = {
      'X-Priority': Buffer.from('high'),
      'x-priority': 'ignored: the first spelling wins',
      'X-Multi': [Buffer.from('one'), Buffer.from('two')],
      'x-label': Buffer.from('café', 'utf8'),
      'x-big': Buffer.alloc(MAX_EVENT_HEADER_BYTES + 1, 0x61),
      'x-edge': 'b'.repeat(MAX_EVENT_HEADER_BYTES),
      'x-none': undefined,
    };
    const r = readEvent(json({ id: 'h1', type: 't', data: {} }, headers), 'events', options);
    expect(r.ok && { ...r.event.headers }).toEqual({ 'x-priority': 'high', 'x-multi': 'one', 'x-label': 'café', 'x-edge': 'b'.repeat(MAX_EVENT_HEADER_BYTES) });

    const many: SourceRecord['headers'] = Object.fromEntries(Array.from({ length: MAX_EVENT_HEADERS + 10 }, (_, i) => [`h${i}`, `${i}`]));
    const kept = readEvent(json({ id: 'h2', type: 't', data: {} }, many), 'events', options);
    expect(kept.ok && Object.keys(kept.event.headers!)).toEqual(Array.from({ length: MAX_EVENT_HEADERS }, (_, i) => `h${i}`));

    const binary = readEvent({ value: Buffer.from('{}'), headers: { ce_specversion: '1.0', ce_id: 'b', ce_source: 's', ce_type: 't', 'X-Region': 'eu' } }, 'events', options);
    expect(binary.ok && { ...binary.event.headers }).toEqual({ ce_specversion: '1.0', ce_id: 'b', ce_source: 's', ce_type: 't', 'x-region': 'eu' });

    const none = readEvent(json({ id: 'h3', type: 't', data: {} }), 'events', options);
    expect(none.ok && none.event.headers).toBeUndefined();
  });

  it('reads plain JSON at configured paths and the tenant from a configured path', () => {
    const r = readEvent(
      json({ meta: { event_id: 7, kind: 'order.paid', at: '2026-03-03T00:00:00Z' }, body: { org: { id: 'org-9' } } }),
      'orders',
      { ...options, paths: { id: 'meta.event_id', type: 'meta.kind', data: 'body', subject: 'meta.subject', time: 'meta.at' }, tenantPath: 'data.org.id' },
    );
    expect(r.ok && r.event).toEqual(expect.objectContaining({ id: '7', type: 'order.paid', time: '2026-03-03T00:00:00Z', data: { org: { id: 'org-9' } }, tenant: 'org-9' }));
  });

  it('finds a per-event callback URL in the data (Edgegap, Deep Image) or in a header', () => {
    const edgegap = readEvent(json({ id: '1', type: 'deployment.ready', data: { request_id: 'r', webhook_url: 'https://cb.example/e' } }), 't', options);
    expect(edgegap.ok && edgegap.event.callbackUrl).toBe('https://cb.example/e');
    const deepImage = readEvent(json({ id: '2', type: 'job.completed', data: { job: 'j', webhooks: { complete: 'https://cb.example/d' } } }), 't', options);
    expect(deepImage.ok && deepImage.event.callbackUrl).toBe('https://cb.example/d');
    const byHeader = readEvent(json({ id: '3', type: 'x', data: { webhook_url: 'https://cb.example/ignored' } }, { 'webhook-url': Buffer.from('https://cb.example/h') }), 't', options);
    expect(byHeader.ok && byHeader.event.callbackUrl).toBe('https://cb.example/h');
    const none = readEvent(json({ id: '4', type: 'x', data: {} }), 't', options);
    expect(none.ok && none.event.callbackUrl).toBeUndefined();
  });

  it.each([
    [{ value: Buffer.from('{not json') }, /^not valid JSON/],
    [{ value: null }, /^empty value/],
    [json([1, 2]), /^not a JSON object/],
    [json({ type: 'a' }), /^id is missing/],
    [json({ id: 'x' }), /^type is missing/],
    [json({ id: 'x', type: 'has space' }), /^type must be/],
    [json({ id: 'x', type: 'a', time: 'yesterday' }), /^time must be/],
    [json({ specversion: '0.3', id: 'x', type: 'a', source: 's' }), /specversion/],
    [json({ specversion: '1.0', id: 'x', type: 'a' }), /source is missing/],
    [{ value: Buffer.alloc(2048, 0x20) }, /over the 1024-byte limit/],
  ])('refuses %# with a reason', (record, expected) => {
    expect(reason(readEvent(record as SourceRecord, 'events', options))).toMatch(expected);
  });
});

describe('readEvent with a value already decoded (schema-registry wire format)', () => {
  // The bytes are not JSON: only `decoded` can be read.
  const wire = (decoded: unknown, headers?: SourceRecord['headers']): SourceRecord => ({ value: Buffer.from([0, 0, 0, 0, 1, 0xff]), headers, decoded });

  it('reads it as a plain-JSON event, with the configured paths', () => {
    const r = readEvent(wire({ meta: { key: 'e1', kind: 'job.completed' }, payload: { n: 1 } }), 'events', { ...options, paths: { ...options.paths, id: 'meta.key', type: 'meta.kind', data: 'payload' } });
    expect(r.ok && r.event).toEqual(expect.objectContaining({ id: 'e1', type: 'job.completed', data: { n: 1 }, source: 'kafka:events', cloudevent: false }));
  });

  it('reads it as a structured CloudEvent', () => {
    const r = readEvent(wire({ specversion: '1.0', id: 'c1', source: '/s', type: 't', data: { a: 1 } }), 'events', options);
    expect(r.ok && r.event).toEqual(expect.objectContaining({ id: 'c1', data: { a: 1 }, cloudevent: true }));
  });

  it('takes it as the data of a binary-mode CloudEvent, whatever the content type', () => {
    const headers = { ce_specversion: '1.0', ce_id: 'b1', ce_source: '/s', ce_type: 't', 'content-type': 'application/avro' };
    const r = readEvent(wire({ project: 'shop' }, headers), 'events', options);
    expect(r.ok && r.event).toEqual(expect.objectContaining({ id: 'b1', data: { project: 'shop' }, datacontenttype: 'application/avro', cloudevent: true }));
    expect(r.ok && r.event.extensions).toBeUndefined();
  });

  it('refuses a decoded value nested too deep or that is not an object', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_NESTING_DEPTH + 1; i++) deep = { a: deep };
    expect(reason(readEvent(wire(deep), 'events', options))).toBe(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
    expect(reason(readEvent(wire('just a string'), 'events', options))).toBe('not a JSON object');
    const headers = { ce_specversion: '1.0', ce_id: 'b1', ce_source: '/s', ce_type: 't' };
    expect(reason(readEvent(wire(deep, headers), 'events', options))).toBe(`binary-mode CloudEvent data is nested deeper than ${MAX_NESTING_DEPTH} levels`);
  });
});
