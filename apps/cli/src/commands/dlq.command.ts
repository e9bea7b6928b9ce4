import { MAX_REPLAY_LIMIT, type ReplayDlqView } from '@app/contracts';
import { type Command, intOption, JSON_OPTION, stringOption, UsageError } from '../command.js';

const isoTime = (name: string, raw: string | undefined) => {
  if (raw !== undefined && Number.isNaN(Date.parse(raw))) throw new UsageError(`--${name} must be an ISO 8601 time, got "${raw}"`);
  return raw;
};

export const dlqReplay: Command = {
  name: ['dlq', 'replay'],
  summary: 'Deliver dead letters again (POST /v1/dlq/replay); all filters AND',
  options: {
    subscription: { type: 'string' },
    tenant: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
    'dry-run': { type: 'boolean' },
    ...JSON_OPTION,
  },
  help: {
    '--subscription ID': 'only dead letters of this subscription',
    '--tenant T': "only dead letters of this tenant's events",
    '--since ISO': 'dead-lettered at or after this time',
    '--until ISO': 'dead-lettered before this time',
    '--limit N': `at most N (1 to ${MAX_REPLAY_LIMIT}, default 1000), oldest first`,
    '--dry-run': 'only count what would be replayed',
    '--json': 'print the API answer as JSON',
  },
  notes: ['A dead letter is replayed once: a second replay skips it (already_replayed).'],
  async run(ctx) {
    const dryRun = ctx.values['dry-run'] === true;
    const body = {
      subscription_id: stringOption(ctx, 'subscription'),
      tenant: stringOption(ctx, 'tenant'),
      since: isoTime('since', stringOption(ctx, 'since')),
      until: isoTime('until', stringOption(ctx, 'until')),
      limit: intOption(ctx, 'limit', 1, MAX_REPLAY_LIMIT),
      dry_run: dryRun || undefined,
    };
    const r = await ctx.api().post<ReplayDlqView>('/v1/dlq/replay', body);
    const before = r.already_replayed > 0 ? ` (${r.already_replayed} replayed before, skipped)` : '';
    if (ctx.values.json) ctx.io.out(JSON.stringify(r));
    else if (r.dry_run) ctx.io.out(`dry run: ${r.matched} dead letter(s) would be replayed${before}`);
    else ctx.io.out(`replayed ${r.replayed} dead letter(s)${before}`);
    return 0;
  },
};
