import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import type { AttemptResult, DeadLetter } from '@app/contracts';
import { PortalSessionSigner } from '../apps/producer/src/portal/portal-session-token.js';
import { CHROMIUM, CHROMIUM_ARGS, page$ } from './support/browser.js';
import { GatewayRig } from './support/rig.js';
import type { ReceivedRequest } from './support/receiver.js';

/** Set to a directory (docs/portal) to save screenshots of the main views there. */
const SHOTS = process.env.PORTAL_SCREENSHOTS;
const VENDOR = 'https://app.vendor.example';
/** The vendor's site in the embedding test: any port of localhost may frame the portal, 127.0.0.1 (another site) may not. */
const VENDOR_LOCAL = 'http://localhost:*';

/**
 * The customer portal (/portal) in headless Chromium, against the real broker, both apps and a
 * receiver on 127.0.0.1: a tenant's whole story through the page (open a session link, add an
 * endpoint, receive a test event, see the attempt and the body as sent, rotate the secret, retry
 * a failed attempt, replay a dead letter, disable, delete), another tenant who sees none of it,
 * a read-only session, expired and revoked links, the keyboard and a phone-width screen.
 */
describe('customer portal', () => {
  const themeDir = mkdtempSync(join(tmpdir(), 'portal-theme-'));
  const themeFile = join(themeDir, 'theme.css');
  writeFileSync(themeFile, ':root { --portal-accent: #0f766e; }\n');
  const rig = new GatewayRig('portal', { TOPIC_PARTITIONS: '1', PORTAL_FRAME_ANCESTORS: `${VENDOR}, ${VENDOR_LOCAL}`, PORTAL_TITLE: 'Example <Cloud> webhooks', PORTAL_THEME_FILE: themeFile }, { read: ['results', 'dlq'] });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const dlq = rig.reader('dlq');
  const run = Math.random().toString(36).slice(2, 8);
  const type = (name: string) => `${run}.${name}`;
  let browser: Browser;
  let page: Page;

  type Session = { id: string; token: string; url: string };
  const session = async (tenant: string, extra: Record<string, unknown> = {}): Promise<Session> => {
    const res = await gateway.api('POST', '/v1/portal/sessions', { tenant, ...extra });
    expect(res.status).toBe(201);
    return res.body as Session;
  };
  /** The page at a session link (the fragment is how vendors hand it out). */
  const linkOf = async (s: Pick<Session, 'token'>) => `${await gateway.apiUrl('/portal')}#session=${s.token}`;
  const newPage = async (viewport = { width: 1280, height: 900 }) => {
    const context = await browser.newContext({ viewport });
    return context.newPage();
  };
  const shot = async (name: string, p: Page = page) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const verify = (req: ReceivedRequest, secret: string) => new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
  const card = (url: string) => page.locator(`#endpoint-list li:has(button[aria-label="Open ${url}"])`);
  const fact = (name: string) => page.locator(`#ep-facts dd[data-fact="${name}"]`);
  const attemptRow = (webhookId: string) => page.locator(`#attempts tr[data-webhook="${webhookId}"]`);
  /** Opens an endpoint from the list. */
  const openEndpoint = async (url: string) => {
    if (await page.locator('#endpoint-view').isVisible()) await page.locator('#back').click();
    await page$.visible(page.locator('#endpoints-view'));
    await card(url).getByRole('button', { name: `Open ${url}`, exact: true }).click();
    await page$.text(page.locator('#ep-heading'), url);
  };
  /** The operator's view of a tenant's subscription (the test's ground truth). */
  const subscriptionAt = async (url: string) => {
    const res = await gateway.api('GET', '/v1/subscriptions?limit=500');
    return (res.body.data as { id: string; url: string; tenant?: string; enabled: boolean }[]).find((s) => s.url === url);
  };
  const subscribe = async (tenant: string, path: string, events: string[], extra: Record<string, unknown> = {}) => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events, tenant, ...extra });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  let acme: Session;
  let globex: Session;
  let deadFails = true;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    await rig.start();
    receiver.behave('/acme-flaky', { sequence: [500] });
    receiver.behave('/acme-dead', { statusOf: () => (deadFails ? 503 : 200) });
    // Events that fill the catalogue: two types of acme, one of globex.
    const events: [string, string, unknown][] = [
      ['acme', type('order.created'), { order_id: 'o-1', total: 12 }],
      ['acme', type('order.shipped'), { order_id: 'o-1', carrier: 'ups' }],
      ['globex', type('invoice.paid'), { invoice: 'i-9' }],
    ];
    for (const [i, [tenant, t, data]] of events.entries()) await publisher.publish(source, { id: `${run}-seed-${i}`, type: t, tenant, data });
    // Wait until the catalogue holds them (written by the fan-out).
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const all = (await gateway.api('GET', '/v1/event-types')).body.data as { type: string }[];
      if (all.filter((e) => e.type.startsWith(run)).length === 3) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    acme = await session('acme');
    globex = await session('globex');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await newPage();
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(themeDir, { recursive: true, force: true });
    await rig.stop();
  });

  it('serves the page from the app only, under a strict CSP that lets only the configured origins frame it', async () => {
    const res = await fetch(await gateway.apiUrl('/portal'));
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain(`frame-ancestors ${VENDOR} ${VENDOR_LOCAL};`);
    expect(csp).not.toContain('unsafe');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    // The title is text, escaped.
    expect(html).toContain('<title>Example &#60;Cloud&#62; webhooks</title>');
    expect(html).not.toMatch(/<script(?![^>]*src="\/portal\/portal\.js")/);
    expect(html).not.toMatch(/ style=/);
    const theme = await fetch(await gateway.apiUrl('/portal/theme.css'));
    expect(await theme.text()).toContain('--portal-accent: #0f766e');
    // The console, by contrast, is never framed.
    expect((await fetch(await gateway.apiUrl('/console'))).headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('opens with a session link: the token leaves the address bar, the page acts for its tenant', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(await linkOf(acme));
    await page$.visible(page.locator('#endpoints-heading'));
    expect(page.url()).not.toContain('session=');
    expect(page.url()).toMatch(/\/portal$/);
    await page$.contains(page.locator('#who'), 'acme');
    await page$.visible(page.locator('#no-endpoints'));
    expect(errors).toEqual([]);
  });

  let secret = '';
  const endpointUrl = () => receiver.url('/acme');

  it('adds an endpoint with event types from the catalogue; the secret is shown once', async () => {
    await page.locator('#add-endpoint').click();
    await page$.text(page.locator('#form-heading'), 'Add endpoint');
    // The catalogue offers acme's types with a sample, never globex's.
    const offered = page.locator('#f-event-types li');
    await page$.count(offered, 2);
    await page$.contains(offered.nth(0), type('order.created'));
    await page$.lacks(page.locator('#f-event-types'), 'invoice.paid');
    await offered.nth(0).locator('summary').click();
    await page$.contains(offered.nth(0).locator('pre'), '"order_id": "o-1"');
    await shot('portal-add-endpoint');

    // A bad URL: the API's 400 names the field, nothing is made.
    await page.locator('#f-url').fill('not a url');
    await page.locator('#f-event-types').getByLabel(type('order.created')).check();
    await page.locator('#form-save').click();
    await page$.contains(page.locator('#form-error'), 'url');
    expect(await subscriptionAt('not a url')).toBeUndefined();

    await page.locator('#f-url').fill(endpointUrl());
    await page.locator('#f-description').fill('Order events for the warehouse');
    await page.locator('#f-patterns').fill('webhook.test');
    await page.locator('#f-filters').fill('{"data.total": {"gte": 10}}');
    await page.locator('#form-save').click();
    await page$.visible(page.locator('#secret-panel'));
    secret = (await page.locator('#secret-value').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await page$.text(page.locator('#ep-heading'), endpointUrl());
    const sub = await subscriptionAt(endpointUrl());
    expect(sub).toMatchObject({ tenant: 'acme', enabled: true, events: [type('order.created'), 'webhook.test'], filters: { 'data.total': { gte: 10 } } });
    // Shown once: gone from the page when dismissed, and never in a GET.
    await page.locator('#secret-done').click();
    await page$.hidden(page.locator('#secret-panel'));
    expect(JSON.stringify((await gateway.api('GET', `/v1/subscriptions/${sub!.id}`)).body)).not.toContain(secret);
  });

  let testWebhook = '';

  it('sends a test event: the receiver gets it signed with the secret, and the attempt shows with the body as sent', async () => {
    await page.locator('#ep-test').click();
    await receiver.waitFor((rs) => rs.some((r) => r.path === '/acme'), 30_000, 'the test event');
    const got = receiver.on('/acme')[0]!;
    expect(() => verify(got, secret)).not.toThrow();
    expect(JSON.parse(got.body)).toMatchObject({ type: 'webhook.test' });
    testWebhook = String(got.headers['webhook-id']);
    const row = attemptRow(testWebhook);
    await page$.visible(row, 20_000);
    await page$.text(row.locator('[data-field="outcome"]'), 'delivered');
    await page$.text(row.locator('[data-field="status"]'), '200');
    await page$.text(row.locator('[data-field="duration"]'), /^\d+ ms$/);
    await page$.contains(fact('success-rate'), '100%');
    await row.getByRole('button', { name: /Details/ }).click();
    await page$.settled(page.locator('#ad-request'), 'Loading…');
    // Exactly the bytes the receiver got (pretty-printed for reading).
    expect(JSON.parse((await page.locator('#ad-request').textContent())!)).toEqual(JSON.parse(got.body));
    await shot('portal-endpoint');
    await page.locator('#ad-close').click();
  });

  it('rotates the secret: the new one is shown once and signs the next webhook', async () => {
    await page.locator('#ep-rotate').click();
    await page.locator('#confirm-yes').click();
    await page$.visible(page.locator('#secret-panel'));
    const rotated = (await page.locator('#secret-value').textContent()) ?? '';
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page$.contains(page.locator('#secret-note'), 'previous secret keeps signing');
    await page.locator('#secret-done').click();
    const before = receiver.on('/acme').length;
    await page.locator('#ep-test').click();
    await receiver.waitFor(() => receiver.on('/acme').length > before, 30_000, 'the second test event');
    const second = receiver.on('/acme')[before]!;
    expect(() => verify(second, rotated)).not.toThrow();
  });

  it('retries a failed attempt now: the webhook is sent again at once, and the new attempt shows', async () => {
    const url = receiver.url('/acme-flaky');
    await subscribe('acme', '/acme-flaky', [type('order.created')], { retry: { schedule: [3600] }, description: 'flaky' });
    await publisher.publish(source, { id: `${run}-flaky`, type: type('order.created'), tenant: 'acme', data: { total: 50 } });
    const { value: failed } = await results.waitFor<AttemptResult>((r) => r.eventId === `${run}-flaky` && r.outcome === 'retry_scheduled');
    await page.locator('#refresh').click();
    await openEndpoint(url);
    const row = attemptRow(failed.webhookId);
    await page$.text(row.locator('[data-field="outcome"]'), 'retry scheduled');
    await page$.text(row.locator('[data-field="status"]'), '500');
    await row.getByRole('button', { name: /Details/ }).click();
    await page$.visible(page.locator('#ad-retry'));
    await page$.hidden(page.locator('#ad-replay'));
    await page.locator('#ad-retry').click();
    // Sent again now (the schedule would wait an hour), with the same webhook-id.
    await receiver.waitFor(() => receiver.on('/acme-flaky').length >= 2, 30_000, 'the retry');
    const [first, again] = receiver.on('/acme-flaky');
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    await page$.visible(page.locator(`#attempts tr[data-webhook="${failed.webhookId}"] [data-field="outcome"]`, { hasText: 'delivered' }), 20_000);
    // Delivered since: nothing to retry any more, in the page and in the API.
    await page.locator(`#attempts tr[data-delivery="${failed.deliveryId}"]`).getByRole('button', { name: /Details/ }).click();
    await page$.hidden(page.locator('#ad-retry'));
    const refused = await gateway.api('POST', `/v1/subscriptions/${failed.subscriptionId}/attempts/${failed.deliveryId}/retry`, undefined, { authorization: `Bearer ${acme.token}` });
    expect([refused.status, refused.body.message]).toEqual([409, expect.stringMatching(/later attempt delivered this webhook/)]);
    await page.locator('#ad-close').click();
  });

  it('replays a dead letter after a dry run, once', async () => {
    const url = receiver.url('/acme-dead');
    await subscribe('acme', '/acme-dead', [type('order.shipped')], { retry: { schedule: [] }, description: 'dead' });
    for (const n of [1, 2]) await publisher.publish(source, { id: `${run}-dead-${n}`, type: type('order.shipped'), tenant: 'acme', data: { n } });
    const letters = await Promise.all([1, 2].map((n) => dlq.waitFor<DeadLetter>((d) => d.job.eventId === `${run}-dead-${n}`)));
    deadFails = false;
    await openEndpoint(url);
    await page$.contains(fact('failed-deliveries'), '2 ran out of retries');
    const target = letters[0]!.value.job.webhookId;
    const row = attemptRow(target);
    await page$.text(row.locator('[data-field="outcome"]'), 'dead lettered');
    await page$.text(row.locator('[data-field="status"]'), '503');
    await row.getByRole('button', { name: /Details/ }).click();
    await page$.hidden(page.locator('#ad-retry'));
    await page.locator('#ad-replay').click();
    await page$.text(page.locator('#replay-message'), '1 failed delivery would be sent again.');
    await shot('portal-attempt-replay');
    await page.locator('#replay-confirm').click();
    await page$.contains(page.locator('#replay-message'), 'Replayed 1 failed delivery');
    await receiver.waitFor(() => receiver.on('/acme-dead').some((r) => r.status === 200), 30_000, 'the replayed webhook');
    const delivered = receiver.on('/acme-dead').filter((r) => r.status === 200);
    expect(delivered.map((r) => r.headers['webhook-id'])).toEqual([target]);
    // Once: a second replay of it sends nothing.
    await page.locator('#ad-replay').click();
    await page$.text(page.locator('#replay-message'), 'Nothing to replay (1 already replayed before).');
    await page.locator('#replay-close').click();
  });

  it('replays the dead letters of a time range, counted by a dry run first', async () => {
    await openEndpoint(receiver.url('/acme-dead'));
    const hourAgo = new Date(Date.now() - 3_600_000);
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await page.locator('#r-since').fill(local(hourAgo));
    await page.locator('#r-until').fill(local(new Date(Date.now() + 60_000)));
    await page.locator('#r-check').click();
    await page$.text(page.locator('#replay-message'), '1 failed delivery would be sent again (1 already replayed before).');
    await page.locator('#replay-confirm').click();
    await page$.contains(page.locator('#replay-message'), 'Replayed 1 failed delivery');
    await receiver.waitFor(() => receiver.on('/acme-dead').filter((r) => r.status === 200).length === 2, 30_000, 'the second replayed webhook');
    await page.locator('#replay-close').click();
  });

  it('edits an endpoint: the form holds its settings, a bad filter is refused naming the field', async () => {
    await openEndpoint(endpointUrl());
    await page.locator('#ep-edit').click();
    await page$.text(page.locator('#form-heading'), 'Edit endpoint');
    expect(await page.locator('#f-url').inputValue()).toBe(endpointUrl());
    expect(await page.locator('#f-event-types').getByLabel(type('order.created')).isChecked()).toBe(true);
    expect(await page.locator('#f-patterns').inputValue()).toBe('webhook.test');
    expect(JSON.parse(await page.locator('#f-filters').inputValue())).toEqual({ 'data.total': { gte: 10 } });
    await page.locator('#f-filters').fill('{"data.total": {"gte": "ten"}}');
    await page.locator('#form-save').click();
    await page$.contains(page.locator('#form-error'), 'data.total');
    await page.locator('#f-filters').fill('');
    await page.locator('#f-description').fill('Orders, all totals');
    await page.locator('#form-save').click();
    await page$.text(page.locator('#ep-description'), 'Orders, all totals');
    await page$.text(page.locator('#ep-facts dd[data-fact="filters"]'), 'none');
    expect(await subscriptionAt(endpointUrl())).toMatchObject({ description: 'Orders, all totals', filters: {} });
  });

  it('disables and enables an endpoint, and deletes one after a confirmation', async () => {
    await openEndpoint(endpointUrl());
    await page.locator('#ep-toggle').click();
    await page$.text(fact('status'), 'Disabled');
    expect((await subscriptionAt(endpointUrl()))!.enabled).toBe(false);
    await page.locator('#ep-toggle').click();
    await page$.text(fact('status'), 'Enabled');
    expect((await subscriptionAt(endpointUrl()))!.enabled).toBe(true);

    await openEndpoint(receiver.url('/acme-flaky'));
    await page.locator('#ep-delete').click();
    await page$.contains(page.locator('#confirm-text'), 'cannot be undone');
    await page.locator('#confirm-no').click();
    expect(await subscriptionAt(receiver.url('/acme-flaky'))).toBeDefined();
    await page.locator('#ep-delete').click();
    await page.locator('#confirm-yes').click();
    await page$.visible(page.locator('#endpoints-heading'));
    await page$.count(card(receiver.url('/acme-flaky')), 0);
    expect(await subscriptionAt(receiver.url('/acme-flaky'))).toBeUndefined();
    await page$.count(page.locator('#endpoint-list li'), 2);
    await shot('portal-endpoints');
  });

  it("shows another tenant's session none of it", async () => {
    const other = await newPage();
    await other.goto(await linkOf(globex));
    await page$.visible(other.locator('#no-endpoints'));
    await page$.count(other.locator('#endpoint-list li'), 0);
    await other.locator('#add-endpoint').click();
    await page$.count(other.locator('#f-event-types li'), 1);
    await page$.contains(other.locator('#f-event-types'), type('invoice.paid'));
    await page$.lacks(other.locator('#f-event-types'), 'order.');
    // Nor through the API with the same session.
    const acmeSub = (await subscriptionAt(endpointUrl()))!;
    const bearer = { authorization: `Bearer ${globex.token}` };
    expect((await gateway.api('GET', `/v1/subscriptions/${acmeSub.id}`, undefined, bearer)).status).toBe(404);
    expect((await gateway.api('GET', `/v1/subscriptions/${acmeSub.id}/attempts`, undefined, bearer)).status).toBe(404);
    expect((await gateway.api('POST', `/v1/subscriptions/${acmeSub.id}/test`, undefined, bearer)).status).toBe(404);
    await other.context().close();
  });

  it('shows a read-only session everything and no button that changes something', async () => {
    const viewer = await newPage();
    await viewer.goto(await linkOf(await session('acme', { read_only: true })));
    await page$.visible(viewer.locator('#read-only-badge'));
    await page$.count(viewer.locator('#endpoint-list li'), 2);
    await page$.hidden(viewer.locator('#add-endpoint'));
    await viewer.getByRole('button', { name: `Open ${endpointUrl()}`, exact: true }).click();
    await page$.visible(viewer.locator(`#attempts tr[data-webhook="${testWebhook}"]`));
    for (const id of ['ep-edit', 'ep-toggle', 'ep-test', 'ep-rotate', 'ep-delete', 'replay']) await page$.hidden(viewer.locator(`#${id}`));
    await viewer.context().close();
  });

  it('refuses an expired link and a revoked one', async () => {
    const expiredPage = await newPage();
    const signer = new PortalSessionSigner(rig.config.subscriptions.secretsKey);
    const expired = signer.sign({ id: 'ps_expiredtest', tenant: 'acme', readOnly: false, exp: Math.floor(Date.now() / 1000) - 5 });
    await expiredPage.goto(await linkOf({ token: expired }));
    await page$.visible(expiredPage.locator('#ended-heading'));
    await page$.contains(expiredPage.locator('#ended-reason'), 'portal session expired');
    await page$.hidden(expiredPage.locator('#endpoints-view'));
    await expiredPage.context().close();

    // Revoked while open: the next call is refused and the page says so.
    const s = await session('acme');
    const open = await newPage();
    await open.goto(await linkOf(s));
    await page$.count(open.locator('#endpoint-list li'), 2);
    expect((await gateway.api('DELETE', `/v1/portal/sessions/${s.id}`)).status).toBe(204);
    await open.locator('#refresh').click();
    await page$.contains(open.locator('#ended-reason'), 'portal session revoked');
    await page$.hidden(open.locator('#endpoint-list'));
    // The page forgot the refused token: a reload opens nothing.
    expect(await open.evaluate(() => sessionStorage.length)).toBe(0);
    await open.reload();
    await page$.visible(open.locator('#ended-heading'));
    await page$.hidden(open.locator('#endpoints-view'));
    await open.context().close();
  });

  it('is usable with the keyboard alone: add an endpoint and open it without a pointer', async () => {
    const kb = await newPage();
    await kb.goto(await linkOf(acme));
    await page$.focused(kb.locator('#endpoints-heading'));
    await kb.keyboard.press('Tab');
    await page$.focused(kb.locator('#add-endpoint'));
    await kb.keyboard.press('Enter');
    await page$.focused(kb.locator('#f-url'));
    await kb.keyboard.type(receiver.url('/acme-keyboard'));
    await kb.keyboard.press('Tab');
    await kb.keyboard.type('typed');
    await kb.keyboard.press('Tab');
    await page$.focused(kb.locator('#f-event-types input').first());
    await kb.keyboard.press('Space');
    // Past the sample, the other type and its sample, the patterns and the filters: Save.
    for (let i = 0; i < 6; i++) await kb.keyboard.press('Tab');
    await page$.focused(kb.locator('#form-save'));
    await kb.keyboard.press('Enter');
    await page$.focused(kb.locator('#secret-copy'));
    expect(await subscriptionAt(receiver.url('/acme-keyboard'))).toMatchObject({ tenant: 'acme', events: [type('order.created')] });
    // Escape closes a panel.
    await kb.locator('#ep-delete').focus();
    await kb.keyboard.press('Enter');
    await page$.visible(kb.locator('#confirm-panel'));
    await kb.keyboard.press('Escape');
    await page$.hidden(kb.locator('#confirm-panel'));
    await kb.context().close();
  });

  it('works inside an iframe of an allowed vendor origin, and is refused by any other', async () => {
    // The vendor's page: an iframe of the session link.
    let vendor: Server | undefined;
    const framed = await newPage();
    try {
      const link = await linkOf(await session('acme'));
      vendor = createServer((_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end(`<!doctype html><title>Vendor</title><h1>Vendor settings</h1><iframe id="portal" title="Webhooks" src="${link}" style="width:100%;height:600px"></iframe>`);
      });
      await new Promise<void>((r) => vendor!.listen(0, '127.0.0.1', r));
      const port = (vendor.address() as AddressInfo).port;
      await framed.goto(`http://localhost:${port}/`);
      const frame = framed.frameLocator('#portal');
      await page$.count(frame.locator('#endpoint-list li'), 3);
      await frame.getByRole('button', { name: `Open ${endpointUrl()}`, exact: true }).click();
      await page$.visible(frame.locator(`#attempts tr[data-webhook="${testWebhook}"]`));
      await shot('portal-embedded', framed);

      // The same page on 127.0.0.1 (not in PORTAL_FRAME_ANCESTORS): the browser refuses to show the frame.
      const refusals: string[] = [];
      framed.on('console', (m) => {
        if (/frame-ancestors/.test(m.text())) refusals.push(m.text());
      });
      await framed.goto(`http://127.0.0.1:${port}/`);
      const deadline = Date.now() + 10_000;
      while (refusals.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(refusals.join('\n')).toContain('frame-ancestors');
      expect(await framed.frameLocator('#portal').locator('#title').count()).toBe(0);
    } finally {
      await framed.context().close();
      await new Promise((r) => vendor?.close(r));
    }
  });

  it('fits a phone-width screen without sideways scrolling', async () => {
    const phone = await newPage({ width: 375, height: 812 });
    await phone.goto(await linkOf(acme));
    await page$.visible(phone.locator('#endpoint-list li').first());
    const overflow = () => phone.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shot('portal-phone-endpoints', phone);
    await phone.getByRole('button', { name: `Open ${endpointUrl()}`, exact: true }).click();
    await page$.visible(phone.locator(`#attempts tr[data-webhook="${testWebhook}"]`));
    expect(await overflow()).toBeLessThanOrEqual(0);
    // Each attempt cell carries its column's name.
    await page$.visible(phone.locator(`#attempts tr[data-webhook="${testWebhook}"] td[data-label="Outcome"]`).first());
    await shot('portal-phone-endpoint', phone);
    await phone.context().close();
  });
});
