// The delivery console: plain JS against the management API (no build step, no framework).
// The token lives in this tab's sessionStorage and goes out as `Authorization: Bearer`.
import { ApiError, callApi, el } from '/web/kit.js';

const TOKEN_KEY = 'webhook-gateway.api-token';
const REFRESH_MS = 10_000;
/** The console shows the first page of subscriptions (the API's largest). */
const PAGE_SIZE = 500;

const $ = (id) => document.getElementById(id);

function api(method, path, body) {
  return callApi(sessionStorage.getItem(TOKEN_KEY), method, path, body, () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin('The gateway refused this token (401).');
  });
}

const percent = (rate) => (rate === null ? '—' : `${Math.round(rate * 1000) / 10}%`);

function lastError(error) {
  if (!error) return '';
  return [error.reason, error.status_code, error.message].filter((x) => x !== undefined && x !== null && x !== '').join(' · ');
}

/** How the gateway authenticates to the endpoint (never a secret: the API does not return them). */
function endpointAuth(sub) {
  const parts = [];
  const a = sub.auth;
  if (a?.type === 'oauth2') parts.push(`OAuth2 client credentials (${a.client_id} at ${a.token_url})`);
  else if (a?.type === 'basic') parts.push(`basic (${a.username})`);
  else if (a?.type === 'bearer') parts.push('bearer token');
  if (sub.tls) parts.push(`mutual TLS (${sub.tls.client_certificate?.subject ?? 'client certificate'})`);
  if (sub.kind === 'STANDARD') parts.push('signed');
  return parts.join(' + ') || 'none';
}

/** The transformation, if any: its output mode, with the expression (shortened) beneath. */
function transformCell(sub) {
  const cell = el('td', undefined, { 'data-field': 'transform' });
  if (!sub.transform) {
    cell.textContent = '—';
    return cell;
  }
  cell.append(el('span', `JSONata → ${sub.transform.output}`));
  const expression = sub.transform.expression;
  cell.append(el('div', expression.length > 80 ? `${expression.slice(0, 79)}…` : expression, { class: 'hint', title: expression }));
  return cell;
}

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

function showLogin(message = '') {
  $('app').hidden = true;
  $('refresh').hidden = true;
  $('sign-out').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

function subscriptionRow(sub) {
  const h = sub.health;
  const failed = h.outcomes.retry_scheduled + h.outcomes.dead_lettered;
  const row = el('tr', undefined, { 'data-subscription': sub.id });
  const cell = (field, text, cls) => row.append(el('td', text, { 'data-field': field, ...(cls ? { class: cls } : {}) }));
  const idCell = el('td', undefined, { 'data-field': 'id' });
  idCell.append(el('code', sub.id));
  if (sub.description) idCell.append(el('div', sub.description, { class: 'hint' }));
  row.append(idCell);
  cell('url', sub.url);
  cell('events', sub.events.join(', '));
  cell('auth', endpointAuth(sub));
  row.append(transformCell(sub));
  cell('enabled', sub.enabled ? 'yes' : `no${sub.disabled_reason ? ` (${sub.disabled_reason})` : ''}`, sub.enabled ? '' : 'bad');
  cell('success-rate', percent(h.success_rate), h.success_rate === null ? '' : h.success_rate < 0.9 ? 'bad' : 'good');
  cell('delivered', h.outcomes.delivered);
  cell('failed', failed, failed > 0 ? 'bad' : '');
  cell('last-error', lastError(h.last_error), 'error');
  const breaker = el('td', undefined, { 'data-field': 'breaker' });
  breaker.append(el('span', h.breaker, { class: h.breaker === 'open' ? 'open' : '' }));
  row.append(breaker);
  cell('dlq', h.dlq_count, h.dlq_count > 0 ? 'bad' : '');
  const actions = el('td');
  actions.append(
    el('button', 'Attempts', { type: 'button', 'data-action': 'attempts', onclick: () => void showAttempts(sub.id) }),
    el('button', 'Replay DLQ', { type: 'button', 'data-action': 'replay', onclick: () => void dryRunReplay(sub.id) }),
  );
  row.append(actions);
  return row;
}

async function loadSubscriptions() {
  const { data, next_cursor: more, digest } = await api('GET', `/v1/console/subscriptions?limit=${PAGE_SIZE}`);
  $('subscriptions').tBodies[0].replaceChildren(...data.map(subscriptionRow));
  $('empty').hidden = data.length > 0;
  $('digest-note').hidden = digest.caught_up;
  const count = more ? `the first ${data.length} subscriptions` : `${data.length} subscription${data.length === 1 ? '' : 's'}`;
  setStatus(`${count} · updated ${new Date().toLocaleTimeString()}`);
}

async function showAttempts(id) {
  const { data } = await api('GET', `/v1/subscriptions/${encodeURIComponent(id)}/attempts`);
  $('detail-id').textContent = id;
  $('attempts').tBodies[0].replaceChildren(
    ...data.map((a) => {
      const row = el('tr', undefined, { 'data-delivery': a.deliveryId });
      for (const [field, text] of [
        ['finished', a.finishedAt],
        ['event-type', a.eventType],
        ['event-id', a.eventId],
        ['attempt', a.attempt],
        ['outcome', a.outcome],
        ['reason', a.reason],
        ['status', a.statusCode ?? ''],
        ['duration', `${a.durationMs} ms`],
        ['error', a.error ? `${a.error.class}: ${a.error.message}` : ''],
      ])
        row.append(el('td', text, { 'data-field': field, ...(field === 'outcome' && a.outcome !== 'delivered' ? { class: 'bad' } : {}) }));
      return row;
    }),
  );
  $('no-attempts').hidden = data.length > 0;
  $('detail').hidden = false;
}

let replayTarget = null;

function showReplay(message, canConfirm) {
  $('replay-message').textContent = message;
  $('replay-confirm').hidden = !canConfirm;
  $('replay').hidden = false;
}

function replayFailed(err) {
  if (err instanceof ApiError && err.status === 404) showReplay('DLQ replay is not available on this gateway (404).', false);
  else showReplay(`Replay failed: ${err.message}`, false);
}

async function dryRunReplay(id) {
  replayTarget = id;
  showReplay(`Counting dead letters of ${id}…`, false);
  try {
    const r = await api('POST', '/v1/dlq/replay', { subscription_id: id, dry_run: true });
    const before = r.already_replayed > 0 ? ` (${r.already_replayed} replayed before)` : '';
    if (r.matched === 0) showReplay(`No dead letters of ${id} to replay${before}.`, false);
    else showReplay(`${r.matched} dead letter${r.matched === 1 ? '' : 's'} of ${id} would be delivered again${before}. Replay?`, true);
  } catch (err) {
    replayFailed(err);
  }
}

async function confirmReplay() {
  const id = replayTarget;
  $('replay-confirm').hidden = true;
  try {
    const r = await api('POST', '/v1/dlq/replay', { subscription_id: id });
    showReplay(`Replayed ${r.replayed} dead letter${r.replayed === 1 ? '' : 's'} of ${id}${r.already_replayed > 0 ? ` (${r.already_replayed} replayed before)` : ''}.`, false);
  } catch (err) {
    replayFailed(err);
  }
}

async function refresh() {
  try {
    await loadSubscriptions();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) setStatus(`Could not load: ${err.message}`, true);
  }
}

async function open() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('refresh').hidden = false;
  $('sign-out').hidden = false;
  await refresh();
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  void open();
});
$('refresh').addEventListener('click', () => void refresh());
$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin();
});
$('detail-close').addEventListener('click', () => ($('detail').hidden = true));
$('replay-cancel').addEventListener('click', () => ($('replay').hidden = true));
$('replay-confirm').addEventListener('click', () => void confirmReplay());
setInterval(() => {
  if (!$('app').hidden && sessionStorage.getItem(TOKEN_KEY)) void refresh();
}, REFRESH_MS);

if (sessionStorage.getItem(TOKEN_KEY)) void open();
else showLogin();
