import { createKafka } from '@app/kafka';
import { type Command, JSON_OPTION } from '../command.js';
import { table } from '../format.js';

interface LagRow {
  group: string;
  topic: string;
  partition: number;
  /** null: the group has committed nothing on this partition. */
  committed: number | null;
  end: number;
  lag: number;
}

export const lag: Command = {
  name: ['lag'],
  summary: 'Consumer lag per group, topic and partition (committed offset vs end offset)',
  options: { group: { type: 'string', multiple: true }, ...JSON_OPTION },
  help: { '--group G': 'this consumer group (repeatable); default: SOURCE_GROUP_ID and DELIVERY_GROUP_ID', '--json': 'one JSON row per line' },
  notes: ['A partition the group has not committed on counts every retained record as lag.'],
  async run(ctx) {
    const config = ctx.config();
    const groups = (ctx.values.group as string[] | undefined) ?? [config.source.groupId, config.delivery.groupId];
    const admin = createKafka(config, 'cli').admin();
    await admin.connect();
    const rows: LagRow[] = [];
    try {
      const ends = new Map<string, { partition: number; high: string; low: string }[]>();
      for (const group of groups) {
        for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group })) {
          if (!ends.has(topic)) ends.set(topic, await admin.fetchTopicOffsets(topic));
          for (const p of ends.get(topic)!) {
            const offset = Number(partitions.find((c) => c.partition === p.partition)?.offset ?? -1);
            const committed = offset >= 0 ? offset : null;
            rows.push({ group, topic, partition: p.partition, committed, end: Number(p.high), lag: Number(p.high) - (committed ?? Number(p.low)) });
          }
        }
      }
    } finally {
      await admin.disconnect();
    }
    if (ctx.values.json) {
      for (const row of rows) ctx.io.out(JSON.stringify(row));
      return 0;
    }
    for (const group of groups.filter((g) => !rows.some((r) => r.group === g))) ctx.io.err(`${group}: no committed offsets`);
    if (rows.length === 0) return 0;
    const lines = rows.map((r) => [r.group, r.topic, String(r.partition), r.committed === null ? '-' : String(r.committed), String(r.end), String(r.lag)]);
    for (const line of table([['GROUP', 'TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'], ...lines])) ctx.io.out(line);
    for (const group of groups) {
      const total = rows.filter((r) => r.group === group).reduce((sum, r) => sum + r.lag, 0);
      if (rows.some((r) => r.group === group)) ctx.io.out(`${group}: total lag ${total}`);
    }
    return 0;
  },
};
