import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@app/config';
import { startDeliveryApp } from '../apps/delivery/src/delivery.app.js';
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

/**
 * Two delivery instances in one group: when the second joins and later leaves, every partition
 * is reassigned (kafkajs rebalances eagerly) while the first has attempts in flight. The first
 * finishes and commits them before it rejoins (libs/kafka rejoin-hold), so the partitions that
 * move carry no attempt to make again. With slow answers (300 ms) about a hundred attempts are in
 * flight at each rebalance; without the hold they were all repeated.
 */
describe('accounting: a second delivery instance joins and leaves under load', () => {
  const env = testEnv('accounting-pair', { RETRY_TIERS: '1s,5s' });
  const config = loadConfig(env);
  const gateway = new Gateway(config);
  const run = new LoadRun('e2e-delivery-pair', env, { subscriptions: 10, perSecond: 40, receiverDelayMs: 300 });
  let second: INestApplication | undefined;

  beforeAll(async () => {
    await run.prepare();
    await gateway.start();
  });

  afterAll(async () => {
    await second?.close();
    await gateway.stop();
  });

  it('hands partitions over without repeating an attempt', async () => {
    await run.begin(await gateway.apiUrl(''));
    await run.untilPublished(80);
    run.ledger.mark('second delivery instance joins');
    second = await startDeliveryApp(config);
    await run.untilPublished(200);
    run.ledger.mark('second delivery instance leaves (graceful)');
    await second.close();
    second = undefined;
    await run.untilPublished(280);

    const report = await run.finish(() => gateway.stop());
    expect(report.published).toBeGreaterThanOrEqual(280);
    expect(report).toMatchObject({ lost: 0, duplicates: 0, splitIds: 0, unexpected: 0, duplicateJobs: 0, deadLettered: 0 });
  });
});
