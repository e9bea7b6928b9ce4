import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { gatewayGroupPrefixes, gatewayTopics } from '@app/config';
import { type AttemptResult, OUTCOMES, type Outcome } from '@app/contracts';
import { compileValuePattern } from '@app/filter';
import { createKafka, readTopicRange } from '@app/kafka';
import { type Command, type CommandContext, JSON_OPTION, stringOption, UsageError } from '../command.js';
import { formatAttempt } from '../format.js';

function resultFilter(ctx: CommandContext): (r: AttemptResult) => boolean {
  const subscription = stringOption(ctx, 'subscription');
  const tenant = stringOption(ctx, 'tenant');
  const outcome = stringOption(ctx, 'outcome');
  const eventType = stringOption(ctx, 'event-type');
  if (outcome !== undefined && !OUTCOMES.includes(outcome as Outcome)) throw new UsageError(`--outcome must be one of ${OUTCOMES.join(', ')}, got "${outcome}"`);
  const typeMatches = eventType === undefined ? () => true : compileValuePattern(eventType);
  return (r) =>
    (subscription === undefined || r.subscriptionId === subscription) &&
    (tenant === undefined || r.tenant === tenant) &&
    (outcome === undefined || r.outcome === outcome) &&
    typeMatches(r.eventType.toLowerCase());
}

function parse(message: KafkaMessage): AttemptResult | undefined {
  try {
    return message.value ? (JSON.parse(message.value.toString('utf8')) as AttemptResult) : undefined;
  } catch {
    return undefined;
  }
}

export const resultsTail: Command = {
  name: ['results', 'tail'],
  summary: 'Print attempts as they are written to <TOPIC_PREFIX>.results (read from Kafka)',
  options: {
    subscription: { type: 'string' },
    tenant: { type: 'string' },
    outcome: { type: 'string' },
    'event-type': { type: 'string' },
    'from-beginning': { type: 'boolean' },
    once: { type: 'boolean' },
    ...JSON_OPTION,
  },
  help: {
    '--subscription ID': 'only this subscription (sub_…, or cb_… for a callback)',
    '--tenant T': 'only this tenant',
    '--outcome O': `only this outcome: ${OUTCOMES.join(', ')}`,
    '--event-type T': 'only these event types (exact, or with * wildcards: deployment.*)',
    '--from-beginning': 'start at the oldest retained record instead of new ones',
    '--once': 'print what is on the topic now (from the beginning) and exit instead of following',
    '--json': 'one JSON record per line (the record as written, see docs/topics.md)',
  },
  notes: ['Follows in a consumer group of its own that never commits (KAFKA_BROKERS, TOPIC_PREFIX); --once reads with Fetch requests, in no group. Ctrl-C stops it.'],
  async run(ctx) {
    const accept = resultFilter(ctx);
    const config = ctx.config();
    const kafka = createKafka(config, 'cli');
    const topic = gatewayTopics(config).results;
    const groupPrefix = gatewayGroupPrefixes(config).cli;
    const admin = kafka.admin();
    await admin.connect();
    const exists = await admin.listTopics().finally(() => admin.disconnect());
    if (!exists.includes(topic)) throw new Error(`topic ${topic} does not exist: are KAFKA_BROKERS and TOPIC_PREFIX those of the gateway?`);
    const print = (message: KafkaMessage) => {
      const result = parse(message);
      if (result && accept(result)) ctx.io.out(ctx.values.json ? JSON.stringify(result) : formatAttempt(result));
    };
    if (ctx.values.once) {
      await readTopicRange(kafka, topic, {}, print);
      return 0;
    }
    const consumer = kafka.consumer({ groupId: `${groupPrefix}.${randomUUID()}`, maxWaitTimeInMs: 500, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: ctx.values['from-beginning'] === true });
      await consumer.run({ autoCommit: false, eachMessage: ({ message }) => Promise.resolve(print(message)) });
      ctx.io.err(`following ${topic} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => (ctx.signal.aborted ? resolve() : ctx.signal.addEventListener('abort', () => resolve(), { once: true })));
    } finally {
      await consumer.disconnect();
    }
    return 0;
  },
};
