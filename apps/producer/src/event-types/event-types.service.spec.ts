import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { gatewayTopics, loadConfig } from '@app/config';
import type { GatewayEvent } from '@app/contracts';
import type { OutgoingRecord } from '@app/kafka';
import { EventTypesService } from './event-types.service.js';

const event = (type: string, id = 'e1'): GatewayEvent => ({ id, type, source: '/shop', time: '2026-01-01T00:00:00.000Z', data: {}, cloudevent: false });

/** The service with a producer whose writes the test settles; the topic is never read (start() is not called). */
function service() {
  const config = loadConfig({ API_TOKENS: 't', SECRETS_KEY: 'ab'.repeat(32) });
  const writes: { records: OutgoingRecord[]; resolve: () => void; reject: (err: Error) => void }[] = [];
  const producer = { write: (records: OutgoingRecord[]) => new Promise<void>((resolve, reject) => writes.push({ records, resolve, reject })) };
  return { writes, topics: gatewayTopics(config), eventTypes: new EventTypesService({} as never, config, gatewayTopics(config), {} as never, producer as never) };
}

describe('EventTypesService.record', () => {
  afterEach(() => jest.restoreAllMocks());

  it('returns without waiting for the write, which goes to the event-types topic keyed <tenant>/<type>', () => {
    const { writes, topics, eventTypes } = service();
    eventTypes.record([event('order.created'), { ...event('order.created', 'e2'), tenant: 'acme' }], Date.now());
    expect(writes.map((w) => w.records.map((r) => [r.topic, r.key]))).toEqual([[[topics.eventTypes, '/order.created']], [[topics.eventTypes, 'acme/order.created']]]);
  });

  it('logs and drops a failed write, and the next event of the type tries again', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { writes, eventTypes } = service();
    const now = Date.now();
    eventTypes.record([event('order.created')], now);
    eventTypes.record([event('order.created', 'e2')], now + 1);
    expect(writes).toHaveLength(1);
    writes[0]!.reject(new Error('broker unreachable'));
    await new Promise((r) => setImmediate(r));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('broker unreachable'));
    eventTypes.record([event('order.created', 'e3')], now + 2);
    expect(writes).toHaveLength(2);
  });

  it('drops an event whose data cannot be written as JSON instead of throwing', () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { writes, eventTypes } = service();
    expect(() => eventTypes.record([{ ...event('big.number'), data: { n: 1n } }, event('fine')], Date.now())).not.toThrow();
    expect(writes.map((w) => w.records[0]!.key)).toEqual(['/fine']);
  });
});
