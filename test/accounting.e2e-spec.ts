import { loadConfig } from '@app/config';
import { Gateway, testEnv } from './support/gateway.js';
import { LoadRun } from './support/load-run.js';

/**
 * The accounting harness on a short run: events fanned out to many subscriptions, every
 * (event, subscription) pair received or dead-lettered, and a graceful restart of each app
 * under load costs neither a webhook nor a duplicate. The long and violent runs (kill -9,
 * broker failures) are in test/chaos (npm run test:chaos).
 */
describe('accounting: every (event, subscription) pair, exactly once through graceful restarts', () => {
  const env = testEnv('accounting', { RETRY_TIERS: '1s,5s' });
  const gateway = new Gateway(loadConfig(env));
  const run = new LoadRun('e2e-graceful-restarts', env, { subscriptions: 10, perSecond: 40, receiverDelayMs: 20 });

  beforeAll(async () => {
    await run.prepare();
    await gateway.start();
  });

  afterAll(() => gateway.stop());

  it('delivers every pair once while the producer and delivery apps restart gracefully', async () => {
    await run.begin(await gateway.apiUrl(''));
    await run.untilPublished(80);
    run.ledger.mark('producer restart (graceful)');
    await gateway.restartProducer();
    await run.untilPublished(160);
    run.ledger.mark('delivery restart (graceful)');
    await gateway.restartDelivery();
    await run.untilPublished(240);

    const report = await run.finish(() => gateway.stop());
    expect(report.published).toBeGreaterThanOrEqual(240);
    expect(report.expected).toBe(report.published * 10);
    expect(report).toMatchObject({ lost: 0, duplicates: 0, splitIds: 0, unexpected: 0, duplicateJobs: 0, deadLettered: 0 });
  });
});
