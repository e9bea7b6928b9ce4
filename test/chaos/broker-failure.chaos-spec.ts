import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { Prng } from '../../bench/prng.js';
import { AppProcess } from '../support/app-process.js';
import { loadConfig } from '@app/config';
import { testEnv } from '../support/gateway.js';
import { groupCoordinator } from '../support/kafka.js';
import { LoadRun } from '../support/load-run.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TIMEOUT_MS = 20 * 60_000;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const random = new Prng(SEED);
const randomMoment = () => new Promise((r) => setTimeout(r, 3_000 + random.next() * 5_000));

const execFileAsync = promisify(execFile);

/**
 * scripts/kafka-cluster.sh: three KRaft nodes on 127.0.0.1 (ports 39111–39113 unless KAFKA_CLUSTER_PORT
 * says otherwise). Run without blocking: the receivers live in this process and must go on answering
 * while a broker starts or stops (a synchronous child process froze them for the whole cluster
 * restart, so the gateway's attempts timed out at receivers that got them: duplicates of the test's
 * making, not the gateway's).
 */
const cluster = async (...args: string[]) => (await execFileAsync('bash', [path.join(ROOT, 'scripts/kafka-cluster.sh'), ...args], { cwd: ROOT, encoding: 'utf8' })).stdout;

/**
 * Broker failures under steady load, on a three-node cluster (replication factor 3,
 * min.insync.replicas 2, acks=all, idempotent and transactional producers): one broker
 * killed and brought back, several times; then the whole cluster restarted, after which
 * the apps reconnect and resume by themselves. The last single kill is of the broker that
 * coordinates the delivery app's consumer group.
 *
 * Duplicates are bounded, not only counted: the delivery app's jobs in flight (read, not committed)
 * are sampled through the run, and the duplicates may not exceed those in flight at each fault,
 * summed over the faults (an attempt whose outcome is known is not made again because Kafka was
 * unavailable; only work in flight when a fault hits may be).
 */
describe('broker failures under steady load (three-node KRaft cluster)', () => {
  let brokers: string;

  beforeAll(async () => {
    await cluster('up');
    brokers = (await cluster('brokers')).trim();
  }, 300_000);

  afterAll(async () => {
    await cluster('down');
  }, 120_000);

  // A failed run leaves nothing behind: its app processes, load, readers and receiver.
  afterEach(async () => {
    await AppProcess.killAll();
    await LoadRun.closeAll();
  });

  it(`a broker killed (kill -9) and brought back three times, then the delivery group's coordinator, then every broker restarted: no loss, duplicates within the in-flight bound (seed ${SEED})`, async () => {
    const env = testEnv('brokers', { KAFKA_BROKERS: brokers, TOPIC_PARTITIONS: '6', TOPIC_REPLICATION_FACTOR: '3', RETRY_TIERS: '1s,5s', KAFKA_SESSION_TIMEOUT_MS: '10000', LOG_LEVEL: 'log' });
    const run = new LoadRun('broker-failures', env, { subscriptions: 8, perSecond: 30, receiverDelayMs: 20 });
    await run.prepare();
    const apps = [new AppProcess('producer', 'brokers-producer', env), new AppProcess('delivery', 'brokers-delivery', env)];
    await Promise.all(apps.map((a) => a.start()));
    await run.begin(apps[0]!.url);
    run.watchInFlight([apps[1]!]);

    const killAndBringBack = async (node: string, what = `broker ${node}`) => {
      await randomMoment();
      run.ledger.fault(`kill -9 ${what}`);
      await cluster('kill', node);
      await randomMoment();
      run.ledger.fault(`${what} back`);
      await cluster('start', node);
    };
    for (let i = 0; i < 3; i++) await killAndBringBack(String(1 + Math.floor(random.next() * 3)));
    const coordinator = await groupCoordinator(run.kafka, loadConfig(env).delivery.groupId);
    await killAndBringBack(String(coordinator), `broker ${coordinator} (the delivery group's coordinator)`);
    // The whole cluster down and up again (a single-broker deployment's restart, three times over).
    await randomMoment();
    run.ledger.fault('every broker stopped');
    await cluster('down');
    await cluster('up');
    run.ledger.fault('every broker back');

    const report = await run.finish(async () => {
      // Nobody restarted the apps: they rode the outage out.
      expect(apps.map((a) => a.running)).toEqual([true, true]);
      await Promise.all(apps.map((a) => a.stop('SIGTERM')));
    }, 300_000);
    expect(report.published).toBeGreaterThan(0);
    // Exactly-once fan-out holds through failovers too, now that read_committed drops every aborted
    // transaction's records (patches/kafkajs+2.2.4.patch; before it, 3 of 22,664 jobs were read twice).
    expect(report).toMatchObject({ lost: 0, splitIds: 0, unexpected: 0, duplicateJobs: 0 });
    // What a fault made the gateway attempt again stays within what was in flight at it.
    // Every duplicate, whatever its cause (duplicateCauses), counts against the bound.
    expect(report.duplicates).toBeLessThanOrEqual(report.duplicateBound!);
  }, TIMEOUT_MS);
});
