import type { GatewayEvent } from '@app/contracts';
import { fanOut } from './fan-out.js';
import { sub } from './subscription.testing.js';
import { renderBody } from '@app/body';

const event: GatewayEvent = {
  id: 'e1',
  type: 'deployment.succeeded',
  source: '/qovery',
  time: '2026-01-01T00:00:00.000Z',
  subject: 'shop-api',
  data: { status: 'READY', project: 'shop' },
  extensions: { tenant: 'acme' },
  tenant: 'acme',
  cloudevent: true,
};
const position = { topic: 'events', partition: 0, offset: '7' };

describe('renderBody', () => {
  it('renders standard, raw and cloudevents bodies', () => {
    expect(JSON.parse(renderBody(event, 'STANDARD', 'standard'))).toEqual({ type: 'deployment.succeeded', timestamp: '2026-01-01T00:00:00.000Z', data: event.data });
    expect(JSON.parse(renderBody(event, 'STANDARD', 'raw'))).toEqual(event.data);
    expect(JSON.parse(renderBody(event, 'STANDARD', 'cloudevents'))).toEqual({
      specversion: '1.0',
      id: 'e1',
      source: '/qovery',
      type: 'deployment.succeeded',
      time: '2026-01-01T00:00:00.000Z',
      subject: 'shop-api',
      datacontenttype: 'application/json',
      tenant: 'acme',
      data: event.data,
    });
  });

  it('never puts the source record headers (kept for filters) into a body', () => {
    const withHeaders: GatewayEvent = { ...event, headers: { 'x-internal-token': 'kafka-only-value' } };
    for (const [kind, format] of [['STANDARD', 'standard'], ['STANDARD', 'raw'], ['STANDARD', 'cloudevents'], ['SLACK', 'standard']] as const) {
      const body = renderBody(withHeaders, kind, format);
      expect([kind, format, body.includes('kafka-only-value') || body.includes('x-internal-token')]).toEqual([kind, format, false]);
      expect(body).toBe(renderBody(event, kind, format));
    }
  });

  it('renders a Slack message with the type, subject and key fields', () => {
    const msg = JSON.parse(renderBody(event, 'SLACK', 'standard'));
    expect(msg.text).toBe('deployment.succeeded: shop-api');
    expect(JSON.stringify(msg.blocks)).toContain('*status*\\nREADY');
  });
});

describe('fanOut', () => {
  it('makes one job per subscription with a stable webhook id', () => {
    const jobs = fanOut(event, [sub('a'), sub('b', { format: 'raw' })], position, new Date());
    expect(jobs.map((j) => [j.subscriptionId, j.format, j.attempt])).toEqual([
      ['a', 'standard', 1],
      ['b', 'raw', 1],
    ]);
    expect(jobs[0]!.webhookId).toMatch(/^msg_/);
    expect(jobs[0]!.webhookId).not.toBe(jobs[1]!.webhookId);
    expect(fanOut(event, [sub('a')], position, new Date())[0]!.webhookId).toBe(jobs[0]!.webhookId);
  });

  it('adds a job for the event\'s own callback URL when callbacks are on', () => {
    const withCallback = { ...event, callbackUrl: 'https://cb.example/hook' };
    expect(fanOut(withCallback, [sub('a')], position, new Date())).toHaveLength(1);
    const jobs = fanOut(withCallback, [sub('a')], position, new Date(), 'raw');
    expect(jobs).toHaveLength(2);
    expect(jobs[1]).toMatchObject({ callback: true, url: 'https://cb.example/hook', format: 'raw', kind: 'STANDARD', subscriptionId: expect.stringMatching(/^cb_/) });
    expect(JSON.parse(jobs[1]!.body)).toEqual(event.data);
  });
});

describe('fanOut with ordered delivery', () => {
  it('gives the source key to the jobs of subscriptions that order by key, and only to them', () => {
    const jobs = fanOut(event, [sub('a', { ordering: 'key' }), sub('b')], { ...position, key: 'order-42' }, new Date());
    expect(jobs.map((j) => [j.subscriptionId, j.orderingKey])).toEqual([
      ['a', 'order-42'],
      ['b', undefined],
    ]);
    expect(jobs[0]!.source).toEqual(position);
  });

  it('does not order an event without a key', () => {
    expect(fanOut(event, [sub('a', { ordering: 'key' })], position, new Date())[0]!.orderingKey).toBeUndefined();
  });
});
