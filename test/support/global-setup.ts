import { BROKERS, kafkaScript, reachable } from './broker.js';

/** Starts the project's local broker when none answers; global-teardown stops only what this started. */
export default async function globalSetup(): Promise<void> {
  if (await reachable(BROKERS[0]!)) return;
  if (process.env.KAFKA_BROKERS) throw new Error(`KAFKA_BROKERS=${process.env.KAFKA_BROKERS} does not answer`);
  kafkaScript('up');
  process.env.E2E_STARTED_KAFKA = '1';
}
