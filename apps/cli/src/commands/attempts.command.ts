import type { AttemptPage, AttemptResult } from '@app/contracts';
import { RECENT_ATTEMPTS } from '@app/contracts';
import { type Command, intOption, JSON_OPTION } from '../command.js';
import { formatAttempt } from '../format.js';

export const attempts: Command = {
  name: ['attempts'],
  args: ['<subscription-id>'],
  summary: 'Recent attempts of one subscription, newest first (from the gateway’s console API)',
  options: { limit: { type: 'string' }, ...JSON_OPTION },
  help: { '--limit N': `at most N attempts (1 to ${RECENT_ATTEMPTS}, default ${RECENT_ATTEMPTS})`, '--json': 'one JSON record per line' },
  async run(ctx) {
    const [id] = ctx.positionals;
    const limit = intOption(ctx, 'limit', 1, RECENT_ATTEMPTS);
    const page = await ctx.api().get<AttemptPage>(`/v1/subscriptions/${encodeURIComponent(id!)}/attempts`, { limit });
    for (const r of page.data as AttemptResult[]) ctx.io.out(ctx.values.json ? JSON.stringify(r) : formatAttempt(r));
    if (page.data.length === 0 && !ctx.values.json) ctx.io.err(`no attempts recorded for ${id}`);
    return 0;
  },
};
