import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { AttemptResult, DeadLetter } from '@app/contracts';
import { CHROMIUM, CHROMIUM_ARGS } from './support/browser.js';
import { API_TOKEN } from './support/gateway.js';
import { GatewayRig } from './support/rig.js';


/**
 * The delivery console (/console) in headless Chromium, against the real broker,
 * both apps and a receiver on 127.0.0.1: what it shows must match the traffic.
 */
describe('delivery console', () => {
  const rig = new GatewayRig('console', { TOPIC_PARTITIONS: '1' }, { read: ['results', 'dlq'] });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const dlq = rig.reader('dlq');
  const ids = { healthy: '', failing: '', mixed: '' };
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  const subscribe = async (path: string, type: string) => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], retry: { schedule: [] }, description: `console ${path}` });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const finalResult = (eventId: string) => results.waitFor<AttemptResult>((r) => r.eventId === eventId && r.outcome !== 'retry_scheduled');
  const cell = (sub: string, field: string) => page.locator(`#subscriptions tr[data-subscription="${sub}"] [data-field="${field}"]`);
  const text = async (selector: string) => (await page.locator(selector).textContent())?.trim();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    await rig.start();
    receiver.behave('/failing', { status: 500 });
    // One event of four fails on /mixed: its data says so.
    receiver.behave('/mixed', { statusOf: (r) => ((JSON.parse(r.body) as { data: { fail?: boolean } }).data.fail ? 500 : 200) });
    ids.healthy = await subscribe('/healthy', 'order.created');
    ids.failing = await subscribe('/failing', 'order.failed');
    ids.mixed = await subscribe('/mixed', 'order.mixed');
    const events = [
      ...['h1', 'h2', 'h3'].map((id) => ({ id, type: 'order.created', data: {} })),
      ...['f1', 'f2'].map((id) => ({ id, type: 'order.failed', data: {} })),
      ...['m1', 'm2', 'm3', 'm4'].map((id) => ({ id, type: 'order.mixed', data: { fail: id === 'm2' } })),
    ];
    for (const event of events) await publisher.publish(source, event);
    for (const event of events) await finalResult(event.id);
    for (const id of ['f1', 'f2', 'm2']) await dlq.waitFor<DeadLetter>((d) => d.job.eventId === id);

    profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await rig.stop();
  });

  it('serves the page without a token, from the app only', async () => {
    const res = await fetch(await gateway.apiUrl('/console'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('<script type="module" src="/console/console.js">');
    expect((await fetch(await gateway.apiUrl('/console/console.js'))).headers.get('content-type')).toMatch(/^text\/javascript/);
    const openapi = (await (await fetch(await gateway.apiUrl('/docs-json'))).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/console/subscriptions', '/v1/subscriptions/{id}/attempts']));
    expect(Object.keys(openapi.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
  });

  it('asks for the API token and refuses a wrong one', async () => {
    await page.goto(await gateway.apiUrl('/console'));
    await page.locator('#token').fill('not-the-token');
    await page.locator('#token-form button[type=submit]').click();
    await page.locator('#login-error', { hasText: '401' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('webhook-gateway.api-token'))).toBeNull();

    await page.locator('#token').fill(API_TOKEN);
    await page.locator('#token-form button[type=submit]').click();
    await page.locator(`#subscriptions tr[data-subscription="${ids.mixed}"]`).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('webhook-gateway.api-token'))).toBe(API_TOKEN);
  });

  it('lists every subscription with success rate, last error, breaker and DLQ count matching the traffic', async () => {
    expect(await page.locator('#subscriptions tbody tr').count()).toBe(3);
    expect(await page.locator('#digest-note').isHidden()).toBe(true);
    const row = async (sub: string) =>
      Object.fromEntries(
        await Promise.all(['success-rate', 'delivered', 'failed', 'last-error', 'breaker', 'dlq', 'url'].map(async (f) => [f, (await cell(sub, f).textContent())?.trim()])),
      );
    expect(await row(ids.healthy)).toEqual({ 'success-rate': '100%', delivered: '3', failed: '0', 'last-error': '', breaker: 'closed', dlq: '0', url: receiver.url('/healthy') });
    expect(await row(ids.failing)).toMatchObject({ 'success-rate': '0%', delivered: '0', failed: '2', breaker: 'closed', dlq: '2' });
    expect(await row(ids.mixed)).toMatchObject({ 'success-rate': '75%', delivered: '3', failed: '1', breaker: 'closed', dlq: '1' });
    expect(await cell(ids.failing, 'last-error').textContent()).toMatch(/^http_500, retries exhausted after 1 attempt\(s\) · 500/);
    expect(await cell(ids.mixed, 'last-error').textContent()).toMatch(/^http_500.* · 500/);
  });

  it('shows the recent attempts of a subscription, newest first', async () => {
    await page.locator(`#subscriptions tr[data-subscription="${ids.mixed}"] button[data-action="attempts"]`).click();
    await page.locator('#detail:not([hidden])').waitFor();
    expect(await text('#detail-id')).toBe(ids.mixed);
    const rows = page.locator('#attempts tbody tr');
    await rows.first().waitFor();
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.field, td.textContent]))),
    );
    // Attempts run concurrently: newest first is the order the results topic recorded them in.
    const recorded = results.records.map((r) => r.value as AttemptResult).filter((r) => r.subscriptionId === ids.mixed);
    expect(shown.map((r) => r['event-id'])).toEqual(recorded.map((r) => r.eventId).reverse());
    expect(shown.map((r) => [r['event-id'], r.outcome, r.status]).sort()).toEqual([
      ['m1', 'delivered', '200'],
      ['m2', 'dead_lettered', '500'],
      ['m3', 'delivered', '200'],
      ['m4', 'delivered', '200'],
    ]);
    expect(shown.every((r) => r['event-type'] === 'order.mixed' && r.attempt === '1')).toBe(true);

    // The same data through the API, with a limit; unknown subscriptions are 404.
    const api = await gateway.api('GET', `/v1/subscriptions/${ids.mixed}/attempts?limit=2`);
    expect(api.body.data.map((r: AttemptResult) => r.eventId)).toEqual(shown.slice(0, 2).map((r) => r['event-id']));
    expect((await gateway.api('GET', '/v1/subscriptions/sub_unknown/attempts')).status).toBe(404);
    expect((await gateway.api('GET', `/v1/subscriptions/${ids.mixed}/attempts?limit=0`)).status).toBe(400);
    expect((await gateway.api('GET', '/v1/console/subscriptions', undefined, {})).status).toBe(401);
    // Paged like GET /v1/subscriptions (creation order).
    const order = (await gateway.api('GET', '/v1/subscriptions')).body.data.map((s: { id: string }) => s.id) as string[];
    const first = await gateway.api('GET', '/v1/console/subscriptions?limit=2');
    expect(first.body.data.map((s: { id: string }) => s.id)).toEqual(order.slice(0, 2));
    const rest = await gateway.api('GET', `/v1/console/subscriptions?limit=2&cursor=${first.body.next_cursor}`);
    expect(rest.body).toMatchObject({ data: [{ id: order[2] }], digest: { caught_up: true } });
    expect(rest.body.next_cursor).toBeUndefined();
    expect(rest.body.data[0].health).toEqual((await gateway.api('GET', '/v1/console/subscriptions')).body.data[2].health);
  });

  it('replays a subscription’s dead letters after a dry run shows how many', async () => {
    const before = receiver.on('/failing').length;
    await page.locator(`#subscriptions tr[data-subscription="${ids.failing}"] button[data-action="replay"]`).click();
    await page.locator('#replay-message', { hasText: `2 dead letters of ${ids.failing} would be delivered again` }).waitFor();
    // The dry run sent nothing.
    expect(receiver.on('/failing')).toHaveLength(before);
    await page.locator('#replay-confirm').click();
    await page.locator('#replay-message', { hasText: `Replayed 2 dead letters of ${ids.failing}` }).waitFor();
    await receiver.waitFor((rs) => rs.filter((r) => r.path === '/failing').length === before + 2, 30_000, 'the replayed attempts');
    // Still failing: dead-lettered again, so the DLQ count doubles once the page refreshes.
    await dlq.waitFor((_v, r) => dlq.records.filter((d) => d.key === ids.failing).length === 4 && r.key === ids.failing);
    await results.waitFor<AttemptResult>(() => results.records.filter((r) => (r.value as AttemptResult).subscriptionId === ids.failing).length === 4);
    await page.locator('#refresh').click();
    await cell(ids.failing, 'dlq').filter({ hasText: /^4$/ }).waitFor();
    expect(await cell(ids.failing, 'failed').textContent()).toBe('4');
  });

  it('shows how each subscription authenticates and transforms (never a secret), and why an attempt failed', async () => {
    const res = await gateway.api('POST', '/v1/subscriptions', {
      url: receiver.url('/shaped'),
      events: ['order.shaped'],
      auth: { type: 'bearer', token: 'console-hidden-token' },
      transform: { expression: 'data.ok ? {"id": data.id} : $error("no ok field in " & data.id)' },
    });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    await publisher.publish(source, { id: 'shaped-1', type: 'order.shaped', data: { id: 'x1' } });
    await dlq.waitFor<DeadLetter>((d) => d.job.eventId === 'shaped-1');
    await page.locator('#refresh').click();
    await cell(id, 'auth').waitFor();
    expect(await cell(id, 'auth').textContent()).toBe('bearer token + signed');
    expect(await cell(id, 'transform').textContent()).toBe('JSONata → body' + 'data.ok ? {"id": data.id} : $error("no ok field in " & data.id)');
    expect(await cell(ids.healthy, 'auth').textContent()).toBe('signed');
    expect(await cell(ids.healthy, 'transform').textContent()).toBe('—');
    expect(await page.content()).not.toContain('console-hidden-token');

    await page.locator(`#subscriptions tr[data-subscription="${id}"] button[data-action="attempts"]`).click();
    await page.locator('#detail-id', { hasText: id }).waitFor();
    const row = page.locator('#attempts tbody tr').first();
    await row.waitFor();
    expect(await row.locator('[data-field="reason"]').textContent()).toBe('transform_failed');
    expect(await row.locator('[data-field="error"]').textContent()).toMatch(/^transform: D3137\b.*no ok field in x1/);
  });
});
