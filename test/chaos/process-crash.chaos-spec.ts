import { Prng } from '../../bench/prng.js';
import { AppProcess } from '../support/app-process.js';
import { testEnv } from '../support/gateway.js';
import { LoadRun } from '../support/load-run.js';

const TIMEOUT_MS = 20 * 60_000;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const random = new Prng(SEED);
/** A random moment 2–6 s ahead. */
const randomMoment = () => new Promise((r) => setTimeout(r, 2_000 + random.next() * 4_000));

/** Both apps as real processes, several instances per consumer group. */
function fleet(scenario: string, env: Record<string, string>, instances: number) {
  const producers = Array.from({ length: instances }, (_, i) => new AppProcess('producer', `${scenario}-producer-${i + 1}`, env));
  const deliveries = Array.from({ length: instances }, (_, i) => new AppProcess('delivery', `${scenario}-delivery-${i + 1}`, env));
  const all = [...producers, ...deliveries];
  return {
    producers,
    deliveries,
    start: () => Promise.all(all.map((a) => a.start())),
    stop: async () => void (await Promise.all(all.map((a) => a.stop('SIGTERM')))),
  };
}

describe('process crashes and restarts under steady load', () => {
  // A failed run leaves nothing behind: its app processes, load, readers and receiver.
  afterEach(async () => {
    await AppProcess.killAll();
    await LoadRun.closeAll();
  });
  // The crashed instance's partitions are handed over after the session timeout: the broker's minimum keeps runs short.
  const env = (name: string) => testEnv(name, { TOPIC_PARTITIONS: '6', RETRY_TIERS: '1s,5s', KAFKA_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'log' });

  it(`kill -9: 5 delivery and 5 producer crashes (two instances each, then one) lose nothing and duplicate no job (seed ${SEED})`, async () => {
    const run = new LoadRun('kill-9', env('crash'), { subscriptions: 8, perSecond: 40, receiverDelayMs: 20 });
    await run.prepare();
    const apps = fleet('kill-9', run.env, 2);
    await apps.start();
    await run.begin(apps.producers[0]!.url);
    run.watchInFlight(apps.deliveries);

    const crash = async (app: AppProcess) => {
      await randomMoment();
      run.ledger.fault(`kill -9 ${app.label}`);
      await app.stop('SIGKILL');
      await app.start();
    };
    const pick = (list: AppProcess[]) => list[Math.floor(random.next() * list.length)]!;
    for (let i = 0; i < 3; i++) {
      await crash(pick(apps.deliveries));
      await crash(pick(apps.producers));
    }
    // One instance per group from here on: nobody else can take the partitions over.
    run.ledger.mark('down to one instance each (graceful stop)');
    await Promise.all([apps.producers[1]!.stop(), apps.deliveries[1]!.stop()]);
    for (let i = 0; i < 2; i++) {
      await crash(apps.deliveries[0]!);
      await crash(apps.producers[0]!);
    }

    const report = await run.finish(apps.stop);
    expect(report.published).toBeGreaterThan(0);
    expect(report).toMatchObject({ lost: 0, splitIds: 0, unexpected: 0, duplicateJobs: 0 });
    // Only the attempts in flight in a killed process are made again.
    // Every duplicate, whatever its cause (duplicateCauses), counts against the bound.
    expect(report.duplicates).toBeLessThanOrEqual(report.duplicateBound!);
  }, TIMEOUT_MS);

  const rollingRestart = async (scenario: string, instances: number) => {
    const run = new LoadRun(scenario, env(scenario), { subscriptions: 8, perSecond: 40, receiverDelayMs: 20 });
    await run.prepare();
    const apps = fleet(scenario, run.env, instances);
    await apps.start();
    await run.begin(apps.producers[0]!.url);
    for (const app of [...apps.deliveries, ...apps.producers, ...apps.deliveries, ...apps.producers]) {
      await randomMoment();
      run.ledger.mark(`SIGTERM ${app.label}`);
      await app.stop('SIGTERM');
      await app.start();
    }
    return run.finish(apps.stop);
  };

  it('rolling restart with SIGTERM, one instance per group: no loss and no duplicate at all', async () => {
    const report = await rollingRestart('rolling-restart-single', 1);
    expect(report.published).toBeGreaterThan(0);
    expect(report).toMatchObject({ lost: 0, duplicates: 0, splitIds: 0, unexpected: 0, duplicateJobs: 0 });
  }, TIMEOUT_MS);

  // kafkajs rebalances eagerly: at every stop and start the other instance's partitions all move.
  // It finishes and commits its attempts in flight before it rejoins (libs/kafka rejoin-hold).
  it('rolling restart with SIGTERM, two instances per group: no loss and no duplicate at all', async () => {
    const report = await rollingRestart('rolling-restart-pair', 2);
    expect(report.published).toBeGreaterThan(0);
    expect(report).toMatchObject({ lost: 0, duplicates: 0, splitIds: 0, unexpected: 0, duplicateJobs: 0 });
  }, TIMEOUT_MS);
});
