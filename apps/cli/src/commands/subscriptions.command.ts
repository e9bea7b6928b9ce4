import type { CreatedSubscriptionView, SubscriptionPage, SubscriptionView } from '@app/contracts';
import type { FilterCondition, FilterOperators } from '@app/filter';
import { type Command, type CommandContext, JSON_OPTION, stringOption, UsageError } from '../command.js';
import { table } from '../format.js';

const list = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * `--filter data.env=PRODUCTION,STAGING --filter data.project.name=shop-*` → the API's filters object;
 * `--filter 'data.amount={"gte":100}'` gives a path an object of operators (the API checks it).
 */
function filters(ctx: CommandContext): Record<string, FilterCondition> | undefined {
  const raw = (ctx.values.filter as string[] | undefined) ?? [];
  if (raw.length === 0) return undefined;
  const out: Record<string, FilterCondition> = {};
  for (const f of raw) {
    const eq = f.indexOf('=');
    if (eq <= 0 || eq === f.length - 1) throw new UsageError(`--filter must be path=pattern[,pattern…] or path={operators as JSON}, got "${f}"`);
    const path = f.slice(0, eq).trim();
    const value = f.slice(eq + 1).trim();
    const current = out[path];
    if (value.startsWith('{')) {
      if (current !== undefined) throw new UsageError(`--filter ${path} is given twice; one path takes patterns or one object of operators`);
      out[path] = operators(path, value);
    } else {
      if (current !== undefined && !Array.isArray(current)) throw new UsageError(`--filter ${path} is given twice; one path takes patterns or one object of operators`);
      out[path] = [...((current as string[] | undefined) ?? []), ...list(value)];
    }
  }
  return out;
}

function operators(path: string, json: string): FilterOperators {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new UsageError(`--filter ${path}: operators must be a JSON object like {"gte":100,"lt":1000}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--filter ${path}: operators must be a JSON object like {"gte":100,"lt":1000}`);
  return parsed as FilterOperators;
}

/** How the gateway authenticates to the endpoint, in a word or two: `oauth2`, `basic+mtls`, `-`. Never a secret (the API returns none). */
function authColumn(s: SubscriptionView): string {
  const parts = [s.auth?.type, s.tls ? 'mtls' : undefined].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join('+') : '-';
}

/** `jsonata:body`, `jsonata:request` or `-`. */
const transformColumn = (s: SubscriptionView): string => (s.transform ? `jsonata:${s.transform.output}` : '-');

export const subscriptionsList: Command = {
  name: ['subscriptions', 'list'],
  summary: 'List subscriptions with their endpoint authentication and transformation (management API; never a secret)',
  options: { tenant: { type: 'string' }, ...JSON_OPTION },
  help: { '--tenant T': 'only subscriptions of this tenant', '--json': 'one JSON subscription per line' },
  async run(ctx) {
    const all: SubscriptionView[] = [];
    let cursor: string | undefined;
    do {
      const page = await ctx.api().get<SubscriptionPage>('/v1/subscriptions', { tenant: stringOption(ctx, 'tenant'), limit: 500, cursor });
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    if (ctx.values.json) {
      for (const s of all) ctx.io.out(JSON.stringify(s));
      return 0;
    }
    if (all.length === 0) {
      ctx.io.err('no subscriptions');
      return 0;
    }
    const rows = all.map((s) => [s.id, s.enabled ? 'enabled' : 'disabled', s.tenant ?? '-', s.events.join(','), authColumn(s), transformColumn(s), s.url]);
    for (const line of table([['ID', 'STATE', 'TENANT', 'EVENTS', 'AUTH', 'TRANSFORM', 'URL'], ...rows])) ctx.io.out(line);
    return 0;
  },
};

export const subscriptionsShow: Command = {
  name: ['subscriptions', 'show'],
  args: ['<subscription-id>'],
  summary: 'Show one subscription (management API; never its secret)',
  options: { ...JSON_OPTION },
  help: { '--json': 'on one line' },
  async run(ctx) {
    const view = await ctx.api().get<SubscriptionView>(`/v1/subscriptions/${encodeURIComponent(ctx.positionals[0]!)}`);
    ctx.io.out(ctx.values.json ? JSON.stringify(view) : JSON.stringify(view, null, 2));
    return 0;
  },
};

export const subscriptionsCreate: Command = {
  name: ['subscriptions', 'create'],
  summary: 'Create a subscription and print its id and signing secret (management API)',
  options: {
    url: { type: 'string' },
    events: { type: 'string' },
    tenant: { type: 'string' },
    filter: { type: 'string', multiple: true },
    description: { type: 'string' },
    format: { type: 'string' },
    ...JSON_OPTION,
  },
  help: {
    '--url URL': 'where webhooks are POSTed (required)',
    '--events a,b': 'event type patterns: exact, prefix.* or * (required)',
    '--tenant T': 'only events of this tenant',
    '--filter path=p1,p2': 'attribute filter, repeatable: every path must match, any of its patterns may (* wildcards)',
    "--filter 'path={…}'": 'a path with operators as JSON, e.g. \'data.amount={"gte":100}\' (gt, gte, lt, lte, exists, in, not)',
    '--description TEXT': 'free text',
    '--format F': 'body format: standard, raw or cloudevents',
    '--json': 'print the created subscription as JSON (secret included)',
  },
  notes: ['The secret is shown here only (and on rotation): keep it.'],
  async run(ctx) {
    const url = stringOption(ctx, 'url');
    const events = stringOption(ctx, 'events');
    if (!url || !events) throw new UsageError('--url and --events are required');
    const body = {
      url,
      events: list(events),
      tenant: stringOption(ctx, 'tenant'),
      filters: filters(ctx),
      description: stringOption(ctx, 'description'),
      format: stringOption(ctx, 'format'),
    };
    const created = await ctx.api().post<CreatedSubscriptionView>('/v1/subscriptions', body);
    if (ctx.values.json) ctx.io.out(JSON.stringify(created));
    else for (const line of table([['id', created.id], ['secret', created.secret]])) ctx.io.out(line);
    return 0;
  },
};
