import { TransformError, type Transformer } from '@app/body';
import type { DeliveryJob, Subscription } from '@app/contracts';
import { webhookBody } from './webhook-body.js';

const event = { id: 'e1', type: 'order.created', source: 'shop', time: '2026-12-03T10:00:00Z', data: { id: 42 } };
const sub = { id: 'sub_1', url: 'https://h.example/hooks?x=1', kind: 'STANDARD', format: 'raw', secrets: [], headers: {} } as unknown as Subscription;
const job = (input?: 'event'): DeliveryJob => ({ body: input ? JSON.stringify(event) : '{"pre":"rendered"}', ...(input && { input }) }) as DeliveryJob;
const transformer = (apply: Transformer['apply']) => ({ apply }) as Transformer;

describe('webhookBody', () => {
  const never = transformer(() => Promise.reject(new Error('not called')));

  it('sends a rendered job as it is, even if the subscription has a transformation now', async () => {
    expect(await webhookBody(job(), { ...sub, transform: { expression: '1', output: 'body' } }, never)).toEqual({ kind: 'send', url: sub.url, body: '{"pre":"rendered"}', headers: {} });
  });

  it("renders the subscription's format when its transformation was removed after the job was made", async () => {
    expect(await webhookBody(job('event'), sub, never)).toEqual({ kind: 'send', url: sub.url, body: '{"id":42}', headers: {} });
  });

  it('transforms the event: body, headers and path, or a skip, or the failure as a value', async () => {
    const transform = { expression: 'x', output: 'request' as const };
    const sent = await webhookBody(job('event'), { ...sub, transform }, transformer(() => Promise.resolve({ skip: false, body: '{"a":1}', headers: { 'x-a': '1' }, path: '/p?q=2' })));
    expect(sent).toEqual({ kind: 'send', url: 'https://h.example/p?q=2', body: '{"a":1}', headers: { 'x-a': '1' } });
    expect(await webhookBody(job('event'), { ...sub, transform }, transformer(() => Promise.resolve({ skip: true })))).toEqual({ kind: 'skip' });
    expect(await webhookBody(job('event'), { ...sub, transform }, transformer(() => Promise.reject(new TransformError('D1012: timeout'))))).toEqual({ kind: 'failed', message: 'D1012: timeout' });
    await expect(webhookBody(job('event'), { ...sub, transform }, transformer(() => Promise.reject(new Error('a bug'))))).rejects.toThrow('a bug');
    const authorizing = transformer(() => Promise.resolve({ skip: false, body: '{}', headers: { Authorization: 'Bearer x' } }));
    expect(await webhookBody(job('event'), { ...sub, transform, auth: { type: 'bearer', token: 't' } }, authorizing)).toMatchObject({ kind: 'failed', message: expect.stringMatching(/Authorization/) });
  });
});
