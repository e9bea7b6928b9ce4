// The customer portal: plain JS against the management API (no build step, no framework).
// Opened with a portal-session link (/portal#session=<token>): the token is taken out of the
// URL at once, kept in this tab's sessionStorage (or in memory where an embedding page's
// browser refuses storage), and sent as `Authorization: Bearer`. The session acts for one
// tenant; the API enforces that, the page only hides what a read-only session may not do.
import { ApiError, callApi, el } from '/web/kit.js';

const SESSION_KEY = 'webhook-gateway.portal-session';
/** The portal lists the first page of endpoints (the API's largest). */
const PAGE_SIZE = 500;
const REFRESH_MS = 15_000;
/** Results of jobs held back without a request (not attempts that failed): the API's HELD_BACK_REASONS. */
const HELD_BACK = ['rate_limited', 'circuit_open', 'host_circuit_open', 'endpoint_busy', 'waiting_for_earlier_event'];

const $ = (id) => document.getElementById(id);

// ---- the session ----------------------------------------------------------------------------

let token = null;

function takeSession() {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get('session');
  if (fromUrl) {
    token = fromUrl;
    // Out of the address bar and the history at once.
    history.replaceState(null, '', location.pathname + location.search);
  }
  try {
    if (fromUrl) sessionStorage.setItem(SESSION_KEY, fromUrl);
    else token = sessionStorage.getItem(SESSION_KEY);
  } catch {
    // Storage refused (a third-party iframe in some browsers): the session lives in memory only.
  }
}

function forgetSession() {
  token = null;
  try {
    sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // nothing stored
  }
}

function api(method, path, body) {
  return callApi(token, method, path, body, (message) => {
    forgetSession();
    showEnded(message);
  });
}

// ---- small helpers ----------------------------------------------------------------------------

function facts(dl, rows) {
  dl.replaceChildren();
  for (const [label, value, cls] of rows) {
    if (value === undefined || value === null || value === '') continue;
    dl.append(el('dt', label), el('dd', value, { 'data-fact': label.toLowerCase().replace(/\W+/g, '-'), ...(cls ? { class: cls } : {}) }));
  }
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const percent = (rate) => (rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'status error' : 'status';
}

/** What failed, for the status line; a 401 already replaced the page. */
function failed(action, err) {
  if (!(err instanceof ApiError && err.status === 401)) setStatus(`${action} failed: ${err.message}`, true);
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// ---- views ----------------------------------------------------------------------------------

const VIEWS = ['ended', 'endpoints-view', 'form-view', 'endpoint-view'];
let session = null;
let endpoints = [];
let current = null; // the endpoint shown
let editing = null; // the endpoint edited (null: a new one)

function show(view, focus) {
  for (const id of VIEWS) $(id).hidden = id !== view;
  $('refresh').hidden = view === 'ended';
  if (focus) $(focus).focus();
}

function showEnded(message) {
  $('ended-reason').textContent = message ? `The gateway said: ${message}.` : 'This page was opened without a portal link.';
  $('who').textContent = '';
  setStatus('');
  show('ended', 'ended-heading');
}

function stateOf(sub) {
  if (!sub.enabled) return { text: `Disabled${sub.disabled_reason ? `: ${sub.disabled_reason}` : ''}`, cls: 'state-off' };
  if (sub.failing_since) return { text: `Failing since ${when(sub.failing_since)}`, cls: 'state-off' };
  return { text: 'Enabled', cls: 'state-on' };
}

function endpointCard(sub) {
  const h = sub.health;
  const state = stateOf(sub);
  const item = el('li', undefined, { class: 'card', 'data-endpoint': sub.id });
  const main = el('div');
  main.append(el('div', sub.url, { class: 'url' }));
  if (sub.description) main.append(el('div', sub.description, { class: 'meta' }));
  main.append(el('div', `Events: ${sub.events.join(', ')}`, { class: 'meta' }));
  const figures = el('div', undefined, { class: 'figures' });
  figures.append(el('span', state.text, { class: state.cls, 'data-field': 'state' }));
  figures.append(el('span', `Success rate ${percent(h.success_rate)}`, { 'data-field': 'success-rate', class: h.success_rate !== null && h.success_rate < 0.9 ? 'bad' : '' }));
  if (h.breaker === 'open') figures.append(el('span', 'Paused: endpoint failing (circuit open)', { class: 'bad', 'data-field': 'breaker' }));
  if (h.dlq_count > 0) figures.append(el('span', `${plural(h.dlq_count, 'failed delivery')} to replay`, { class: 'bad', 'data-field': 'dlq' }));
  main.append(figures);
  const open = el('button', 'Open', { type: 'button', 'aria-label': `Open ${sub.url}`, onclick: () => void openEndpoint(sub.id) });
  item.append(main, open);
  return item;
}

async function loadEndpoints() {
  const { data, digest } = await api('GET', `/v1/console/subscriptions?limit=${PAGE_SIZE}`);
  endpoints = data;
  $('digest-note').hidden = digest.caught_up;
  return data;
}

async function showEndpoints(focus = true) {
  try {
    const data = await loadEndpoints();
    $('endpoint-list').replaceChildren(...data.map(endpointCard));
    $('no-endpoints').hidden = data.length > 0;
    setStatus(`${plural(data.length, 'endpoint')} · updated ${new Date().toLocaleTimeString()}`);
    current = null;
    show('endpoints-view', focus ? 'endpoints-heading' : undefined);
  } catch (err) {
    failed('Loading endpoints', err);
  }
}

// ---- the endpoint form ----------------------------------------------------------------------

async function showForm(sub) {
  editing = sub;
  $('form-heading').textContent = sub ? 'Edit endpoint' : 'Add endpoint';
  $('form-error').textContent = '';
  $('f-url').value = sub?.url ?? '';
  $('f-description').value = sub?.description ?? '';
  $('f-filters').value = sub && Object.keys(sub.filters).length > 0 ? JSON.stringify(sub.filters, null, 2) : '';
  let types = [];
  try {
    types = (await api('GET', '/v1/event-types')).data;
  } catch (err) {
    failed('Loading event types', err);
  }
  const chosen = new Set(sub?.events ?? []);
  $('f-event-types').replaceChildren(
    ...types.map((t, i) => {
      const item = el('li');
      const box = el('input', undefined, { type: 'checkbox', id: `f-type-${i}`, value: t.type, checked: chosen.delete(t.type) });
      const label = el('label', undefined, { htmlFor: box.id });
      label.append(box, el('span', t.type));
      const sample = el('details');
      sample.append(el('summary', 'Sample'), el('pre', JSON.stringify(t.sample, null, 2)));
      item.append(label, sample);
      return item;
    }),
  );
  $('f-no-types').hidden = types.length > 0;
  // What the catalogue does not list (patterns, types not seen lately) stays editable as text.
  $('f-patterns').value = [...chosen].join(', ');
  show('form-view', 'f-url');
}

function readForm() {
  const events = [
    ...[...$('f-event-types').querySelectorAll('input:checked')].map((box) => box.value),
    ...$('f-patterns')
      .value.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
  if (events.length === 0) throw new Error('events: choose at least one event type');
  let filters = null;
  const rawFilters = $('f-filters').value.trim();
  if (rawFilters) {
    try {
      filters = JSON.parse(rawFilters);
    } catch (err) {
      throw new Error(`filters: not JSON (${err.message})`, { cause: err });
    }
  }
  const description = $('f-description').value.trim() || null;
  return { url: $('f-url').value.trim(), events: [...new Set(events)], filters, description };
}

async function saveForm(e) {
  e.preventDefault();
  $('form-error').textContent = '';
  let fields;
  try {
    fields = readForm();
  } catch (err) {
    $('form-error').textContent = err.message;
    return;
  }
  $('form-save').disabled = true;
  try {
    if (editing) {
      const saved = await api('PATCH', `/v1/subscriptions/${encodeURIComponent(editing.id)}`, fields);
      setStatus('Endpoint saved.');
      await openEndpoint(saved.id);
    } else {
      const { filters, description, ...rest } = fields;
      const created = await api('POST', '/v1/subscriptions', { ...rest, ...(filters ? { filters } : {}), ...(description ? { description } : {}) });
      setStatus('Endpoint added.');
      await openEndpoint(created.id);
      revealSecret(created.secret, '');
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    $('form-error').textContent = err.message;
  } finally {
    $('form-save').disabled = false;
  }
}

// ---- one endpoint -----------------------------------------------------------------------------

let selectedAttempt = null;
/** The attempts shown, newest first. */
let shownAttempts = [];

/** Whether an attempt of the same webhook after `a` delivered it (then there is nothing to retry). */
const deliveredSince = (a) => shownAttempts.some((b) => b.webhookId === a.webhookId && b.deliveryId !== a.deliveryId && b.outcome === 'delivered' && b.finishedAt >= a.startedAt);

async function openEndpoint(id, focus = true) {
  try {
    await loadEndpoints();
    const sub = endpoints.find((s) => s.id === id);
    if (!sub) {
      setStatus('That endpoint no longer exists.', true);
      await showEndpoints();
      return;
    }
    if (current?.id !== id) {
      $('secret-panel').hidden = true;
      $('attempt-detail').hidden = true;
      $('replay-panel').hidden = true;
      $('confirm-panel').hidden = true;
      selectedAttempt = null;
    }
    current = sub;
    renderEndpoint(sub);
    await loadAttempts();
    show('endpoint-view', focus ? 'ep-heading' : undefined);
  } catch (err) {
    failed('Loading the endpoint', err);
  }
}

function renderEndpoint(sub) {
  const h = sub.health;
  const state = stateOf(sub);
  $('ep-heading').textContent = sub.url;
  $('ep-description').textContent = sub.description ?? '';
  facts($('ep-facts'), [
    ['Status', state.text, state.cls],
    ['Events', sub.events.join(', ')],
    ['Filters', Object.keys(sub.filters).length > 0 ? JSON.stringify(sub.filters) : 'none'],
    ['Success rate', `${percent(h.success_rate)}${h.rate_window > 0 ? ` of the last ${plural(h.rate_window, 'attempt')}` : ''}`],
    ['Circuit breaker', h.breaker === 'open' ? 'open: deliveries are paused while the endpoint fails' : 'closed', h.breaker === 'open' ? 'bad' : ''],
    ['Last error', h.last_error ? [h.last_error.reason, h.last_error.status_code, h.last_error.message, when(h.last_error.at)].filter(Boolean).join(' · ') : '', 'error'],
    ['Failed deliveries', h.dlq_count > 0 ? `${h.dlq_count} ran out of retries (replay them below)` : '', 'bad'],
    ['Endpoint id', sub.id],
  ]);
  $('ep-toggle').textContent = sub.enabled ? 'Disable' : 'Enable';
}

async function loadAttempts() {
  const { data } = await api('GET', `/v1/subscriptions/${encodeURIComponent(current.id)}/attempts`);
  shownAttempts = data;
  $('attempts').tBodies[0].replaceChildren(...data.map(attemptRow));
  $('no-attempts').hidden = data.length > 0;
  return data;
}

function attemptRow(a) {
  const row = el('tr', undefined, { 'data-delivery': a.deliveryId, 'data-webhook': a.webhookId, ...(a.deliveryId === selectedAttempt ? { class: 'selected' } : {}) });
  const cell = (label, text, cls) => row.append(el('td', text, { 'data-label': label, 'data-field': label.toLowerCase().replace(/\W+/g, '-'), ...(cls ? { class: cls } : {}) }));
  cell('Time', when(a.startedAt));
  cell('Event type', a.eventType);
  cell('Attempt', a.attempt);
  cell('Outcome', a.outcome === 'retry_scheduled' && HELD_BACK.includes(a.reason) ? `held back (${a.reason})` : a.outcome.replace('_', ' '), a.outcome === 'delivered' ? 'good' : 'bad');
  cell('Status', a.statusCode ?? (a.error ? a.error.class : ''));
  cell('Duration', `${a.durationMs} ms`);
  cell('Response', a.responseBody ?? a.error?.message ?? '', 'excerpt');
  const details = el('td', undefined, { 'data-label': '' });
  details.append(el('button', 'Details', { type: 'button', 'aria-label': `Details of attempt ${a.attempt} of ${a.eventType}`, onclick: () => void showAttempt(a) }));
  row.append(details);
  return row;
}

async function showAttempt(a) {
  selectedAttempt = a.deliveryId;
  for (const row of $('attempts').tBodies[0].rows) row.classList.toggle('selected', row.dataset.delivery === a.deliveryId);
  $('ad-heading').textContent = `Attempt ${a.attempt} of ${a.eventType}`;
  facts($('ad-facts'), [
    ['Started', when(a.startedAt)],
    ['Outcome', a.outcome.replace('_', ' '), a.outcome === 'delivered' ? 'good' : 'bad'],
    ['Reason', a.reason],
    ['Status', a.statusCode],
    ['Error', a.error ? `${a.error.class}: ${a.error.message}` : '', 'error'],
    ['Duration', `${a.durationMs} ms`],
    ['Next attempt', when(a.nextAttemptAt)],
    ['Webhook id', a.webhookId],
    ['Event id', a.eventId],
  ]);
  $('ad-response').textContent = a.responseBody ? pretty(a.responseBody) : '(no response body)';
  $('ad-request').textContent = 'Loading…';
  $('ad-request-note').textContent = '';
  $('ad-retry').hidden = !(a.outcome === 'retry_scheduled' && !HELD_BACK.includes(a.reason) && !deliveredSince(a));
  $('ad-replay').hidden = a.outcome !== 'dead_lettered';
  $('attempt-detail').hidden = false;
  $('ad-heading').focus();
  try {
    const { request } = await api('GET', `/v1/subscriptions/${encodeURIComponent(current.id)}/attempts/${encodeURIComponent(a.deliveryId)}`);
    $('ad-request').textContent = request.body === null ? '(not available)' : pretty(request.body);
    const notes = [];
    if (request.truncated) notes.push(`The first part of ${request.bytes} bytes.`);
    if (request.note) notes.push(request.note);
    $('ad-request-note').textContent = notes.join(' ');
  } catch (err) {
    $('ad-request').textContent = `(could not load: ${err.message})`;
  }
}

async function retryNow() {
  const id = selectedAttempt;
  $('ad-retry').disabled = true;
  try {
    const r = await api('POST', `/v1/subscriptions/${encodeURIComponent(current.id)}/attempts/${encodeURIComponent(id)}/retry`);
    setStatus(`Sent again now (webhook ${r.webhook_id}); the new attempt appears below in a moment.`);
    await pollAttempts((data) => data.some((a) => a.webhookId === r.webhook_id && a.deliveryId !== id && Date.parse(a.startedAt) > Date.now() - 60_000));
  } catch (err) {
    failed('Retry', err);
  } finally {
    $('ad-retry').disabled = false;
  }
}

/** Reloads the attempts every second until `done` holds for them (at most 15 s), while the endpoint stays open. */
async function pollAttempts(done) {
  const id = current?.id;
  const stillOpen = () => id !== undefined && current?.id === id && !$('endpoint-view').hidden;
  for (let i = 0; i < 15 && stillOpen(); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    if (!stillOpen()) return;
    if (done(await loadAttempts())) break;
  }
  if (stillOpen()) await openEndpoint(id, false);
}

// ---- actions on an endpoint -------------------------------------------------------------------

function revealSecret(secret, note) {
  $('secret-value').textContent = secret;
  $('secret-note').textContent = note;
  $('secret-panel').hidden = false;
  $('secret-copy').focus();
}

let confirmAction = null;

function ask(text, label, action) {
  confirmAction = action;
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = label;
  $('confirm-panel').hidden = false;
  $('confirm-no').focus();
}

async function toggle() {
  const enable = !current.enabled;
  try {
    await api('PATCH', `/v1/subscriptions/${encodeURIComponent(current.id)}`, { enabled: enable });
    setStatus(enable ? 'Endpoint enabled.' : 'Endpoint disabled: no webhooks are sent to it until you enable it.');
    await openEndpoint(current.id, false);
  } catch (err) {
    failed(enable ? 'Enabling' : 'Disabling', err);
  }
}

async function sendTest() {
  try {
    const r = await api('POST', `/v1/subscriptions/${encodeURIComponent(current.id)}/test`);
    setStatus(`Test event sent (webhook ${r.webhook_id}).`);
    await pollAttempts((data) => data.some((a) => a.webhookId === r.webhook_id));
  } catch (err) {
    failed('Sending a test event', err);
  }
}

function rotate() {
  ask('Rotate the signing secret? The current secret keeps signing alongside the new one for a while, so you can switch without losing webhooks.', 'Rotate secret', async () => {
    const r = await api('POST', `/v1/subscriptions/${encodeURIComponent(current.id)}/secret/rotate`, {});
    setStatus('Secret rotated.');
    revealSecret(r.secret, r.previous_secret_expires_at ? `The previous secret keeps signing until ${when(r.previous_secret_expires_at)}.` : '');
  });
}

function remove() {
  ask(`Delete the endpoint ${current.url}? Webhooks stop at once; this cannot be undone.`, 'Delete endpoint', async () => {
    await api('DELETE', `/v1/subscriptions/${encodeURIComponent(current.id)}`);
    setStatus('Endpoint deleted.');
    await showEndpoints();
  });
}

// ---- replay -----------------------------------------------------------------------------------

let replayFilters = null;

function showReplay(message, canConfirm, confirmLabel = 'Replay') {
  $('replay-message').textContent = message;
  $('replay-confirm').hidden = !canConfirm;
  $('replay-confirm').textContent = confirmLabel;
  $('replay-panel').hidden = false;
  (canConfirm ? $('replay-confirm') : $('replay-close')).focus();
}

/** A dry run first: how many dead letters the filters match; the replay itself on confirmation. */
async function dryRun(filters, what) {
  replayFilters = filters;
  showReplay(`Counting ${what}…`, false);
  try {
    const r = await api('POST', '/v1/dlq/replay', { subscription_id: current.id, ...filters, dry_run: true });
    const before = r.already_replayed > 0 ? ` (${r.already_replayed} already replayed before)` : '';
    if (r.matched === 0) showReplay(`Nothing to replay${before}.`, false);
    else showReplay(`${plural(r.matched, 'failed delivery')} would be sent again${before}.`, true, `Replay ${r.matched}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) showReplay(`Could not check: ${err.message}`, false);
  }
}

async function confirmReplay() {
  $('replay-confirm').hidden = true;
  try {
    const r = await api('POST', '/v1/dlq/replay', { subscription_id: current.id, ...replayFilters });
    showReplay(`Replayed ${plural(r.replayed, 'failed delivery')}${r.already_replayed > 0 ? ` (${r.already_replayed} already replayed before)` : ''}. New attempts appear below.`, false);
    await pollAttempts(() => false);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) showReplay(`Replay failed: ${err.message}`, false);
  }
}

function replayRange(e) {
  e.preventDefault();
  const filters = {};
  for (const [id, key] of [
    ['r-since', 'since'],
    ['r-until', 'until'],
  ]) {
    const value = $(id).value;
    if (value) filters[key] = new Date(value).toISOString();
  }
  void dryRun(filters, 'failed deliveries in that range');
}

function replayAttempt() {
  const row = $('attempts').tBodies[0].querySelector(`tr[data-delivery="${CSS.escape(selectedAttempt)}"]`);
  void dryRun({ webhook_id: row.dataset.webhook }, 'this failed delivery');
}

// ---- wiring -----------------------------------------------------------------------------------

async function refresh(focus = false) {
  if (!$('endpoint-view').hidden && current) await openEndpoint(current.id, focus);
  else if (!$('endpoints-view').hidden) await showEndpoints(focus);
}

function wire() {
  $('add-endpoint').addEventListener('click', () => void showForm(null));
  $('endpoint-form').addEventListener('submit', (e) => void saveForm(e));
  $('form-cancel').addEventListener('click', () => void (editing ? openEndpoint(editing.id) : showEndpoints()));
  $('back').addEventListener('click', () => void showEndpoints());
  $('refresh').addEventListener('click', () => void refresh());
  $('ep-edit').addEventListener('click', () => void showForm(current));
  $('ep-toggle').addEventListener('click', () => void toggle());
  $('ep-test').addEventListener('click', () => void sendTest());
  $('ep-rotate').addEventListener('click', rotate);
  $('ep-delete').addEventListener('click', remove);
  $('secret-copy').addEventListener('click', () => {
    navigator.clipboard?.writeText($('secret-value').textContent).then(
      () => setStatus('Secret copied.'),
      () => setStatus('Copy it by hand: the browser refused the clipboard.', true),
    );
  });
  $('secret-done').addEventListener('click', () => {
    $('secret-panel').hidden = true;
    $('secret-value').textContent = '';
    $('ep-heading').focus();
  });
  $('confirm-yes').addEventListener('click', () => {
    const action = confirmAction;
    $('confirm-panel').hidden = true;
    void action?.().catch((err) => failed($('confirm-yes').textContent, err));
  });
  $('confirm-no').addEventListener('click', () => ($('confirm-panel').hidden = true));
  $('ad-close').addEventListener('click', () => {
    $('attempt-detail').hidden = true;
    selectedAttempt = null;
  });
  $('ad-retry').addEventListener('click', () => void retryNow());
  $('ad-replay').addEventListener('click', replayAttempt);
  $('replay-form').addEventListener('submit', replayRange);
  $('replay-confirm').addEventListener('click', () => void confirmReplay());
  $('replay-close').addEventListener('click', () => ($('replay-panel').hidden = true));
  // Escape closes the innermost open panel.
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    const open = ['confirm-panel', 'replay-panel', 'attempt-detail'].find((id) => !$(id).hidden && !$(id).closest('[hidden]'));
    if (open) $(open).hidden = true;
  });
  setInterval(() => {
    // Only while nobody is typing or reading a panel.
    const busy = ['confirm-panel', 'secret-panel', 'attempt-detail', 'replay-panel'].some((id) => !$(id).hidden) || !$('form-view').hidden;
    if (token && !busy && document.visibilityState === 'visible') void refresh();
  }, REFRESH_MS);
}

async function start() {
  wire();
  takeSession();
  if (!token) {
    showEnded();
    return;
  }
  try {
    session = await api('GET', '/v1/portal/session');
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) setStatus(`Could not open the portal: ${err.message}`, true);
    return;
  }
  $('who').textContent = `${session.tenant} · link valid until ${when(session.expires_at)}`;
  $('read-only-badge').hidden = !session.read_only;
  document.body.classList.toggle('read-only', session.read_only);
  await showEndpoints();
}

void start();
