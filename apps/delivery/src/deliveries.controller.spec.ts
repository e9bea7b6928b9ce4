import kafkajs from 'kafkajs';
import type { GatewayConfig, GatewayTopics } from '@app/config';
import type { Batch, KafkaBatchContext, KafkaProducer, OutgoingRecord } from '@app/kafka';
import { HopLog } from '@app/runtime';
import type { AttemptOutcome } from './attempt/attempt-outcome.js';
import { StepCounts } from './attempt/step-counts.js';
import { DeliveriesController } from './deliveries.controller.js';
import type { DeliveryMetrics } from './delivery-metrics.js';
import type { DeliveryService } from './delivery.service.js';

const result = { webhookId: 'w1', deliveryId: 'd1', subscriptionId: 's1', url: 'http://127.0.0.1/x', attempt: 1, startedAt: '2026-12-02T00:00:00.000Z', outcome: 'delivered', reason: 'ok', durationMs: 1, finishedAt: '2026-12-02T00:00:00.001Z' };
const delivered = { kind: 'delivered', result } as AttemptOutcome;

/** The controller with a delivery service that attempts by counting, and a producer whose first `failures` writes fail with `error`. */
function setup(failures: number, error: Error) {
  const attempts = { count: 0 };
  const writes: OutgoingRecord[][] = [];
  let failing = failures;
  const delivery = { handle: async () => (attempts.count++, delivered), steps: new StepCounts(), gate: { openCount: () => 0 } } as unknown as DeliveryService;
  const producer = {
    write: async (records: OutgoingRecord[]) => {
      if (failing-- > 0) throw error;
      writes.push(records);
    },
    describe: () => 'producer',
  } as unknown as KafkaProducer;
  const metrics = { onScrape: () => undefined, record: () => undefined } as unknown as DeliveryMetrics;
  const config = { delivery: { maxInFlight: 10 } } as GatewayConfig;
  const topics = { results: 'results', dlq: 'dlq', invalid: 'invalid', retry: [] } as unknown as GatewayTopics;
  const controller = new DeliveriesController(config, topics, delivery, producer, metrics, new HopLog({ tracing: { hopLog: '' } } as GatewayConfig));
  return { controller, attempts, writes };
}

/** Dispatches one record; resolves with the work its context was handed (wrapped: an awaited promise would be adopted). */
async function dispatchOne(controller: DeliveriesController, holds: () => boolean): Promise<{ work: Promise<void> }> {
  let work!: Promise<void>;
  const context = { isActive: () => true, track: (_offset: string, w: Promise<void>) => (work = w), holdsWork: holds } as unknown as KafkaBatchContext;
  const batch = { topic: 'deliveries', partition: 0, messages: [{ offset: '7', key: null, value: Buffer.from('{}'), headers: {} }] } as unknown as Batch;
  await controller.dispatch(batch, context);
  return { work };
}

const refused = () =>
  new kafkajs.KafkaJSProtocolError({ message: 'The broker received an out of order sequence number', type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', code: 45, retriable: false } as unknown as Error);

describe('DeliveriesController: an outcome whose write Kafka refuses', () => {
  it('is written again, not attempted again, while the job is still this process\'s', async () => {
    const { controller, attempts, writes } = setup(2, refused());
    try {
      await expect((await dispatchOne(controller, () => true)).work).resolves.toBeUndefined();
      expect(attempts.count).toBe(1);
      expect(writes).toEqual([[{ topic: 'results', key: 's1', value: result }]]);
    } finally {
      controller.onApplicationShutdown();
    }
  });

  it('gives the job up (its work fails, uncommitted) once the partition is handed over', async () => {
    let held = true;
    const { controller, attempts, writes } = setup(Number.MAX_SAFE_INTEGER, refused());
    try {
      const { work } = await dispatchOne(controller, () => held);
      setTimeout(() => (held = false), 250);
      await expect(work).rejects.toThrow('out of order sequence number');
      expect(attempts.count).toBe(1);
      expect(writes).toEqual([]);
    } finally {
      controller.onApplicationShutdown();
    }
  });

  it('fails at once for an error that is not Kafka\'s', async () => {
    const { controller, writes } = setup(1, new TypeError('a bug'));
    try {
      await expect((await dispatchOne(controller, () => true)).work).rejects.toThrow('a bug');
      expect(writes).toEqual([]);
    } finally {
      controller.onApplicationShutdown();
    }
  });
});
