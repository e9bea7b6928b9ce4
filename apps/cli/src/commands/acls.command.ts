import { GATEWAY_ROLES, type GatewayRole, gatewayAcls, kafkaAclsCommands } from '@app/topology';
import { type Command, JSON_OPTION, stringOption, UsageError } from '../command.js';
import { table } from '../format.js';

export const acls: Command = {
  name: ['acls'],
  summary: 'The exact Kafka ACLs each app needs with these settings, as kafka-acls.sh commands or a table',
  options: { role: { type: 'string', multiple: true }, principal: { type: 'string' }, 'create-topics': { type: 'boolean' }, ...JSON_OPTION },
  help: {
    '--role R': 'producer, delivery or cli (repeatable); default: producer and delivery',
    '--principal P': 'print kafka-acls.sh commands granting them to P (e.g. User:webhooks-producer); without it, a table',
    '--create-topics': 'include CREATE on the topics the apps create when missing (leave out when you pre-create them)',
    '--json': 'one JSON object per ACL',
  },
  notes: ['Reads TOPIC_PREFIX, SOURCE_TOPICS, SOURCE_GROUP_ID, DELIVERY_GROUP_ID, RETRY_TIERS, SOURCE_TRANSACTIONS and CONSOLE_ENABLED like the apps do.'],
  async run(ctx) {
    const config = ctx.config();
    const roles = ((ctx.values.role as string[] | undefined) ?? ['producer', 'delivery']).map((r) => {
      if (!GATEWAY_ROLES.includes(r as GatewayRole)) throw new UsageError(`--role must be one of ${GATEWAY_ROLES.join(', ')}, got "${r}"`);
      return r as GatewayRole;
    });
    const principal = stringOption(ctx, 'principal');
    const createTopics = ctx.values['create-topics'] === true;
    for (const role of roles) {
      const list = gatewayAcls(config, role, { createTopics });
      if (ctx.values.json) {
        for (const acl of list) ctx.io.out(JSON.stringify({ role, ...(principal ? { principal } : {}), ...acl }));
      } else if (principal) {
        ctx.io.out(`# ${role}`);
        for (const line of kafkaAclsCommands(list, principal)) ctx.io.out(line);
      } else {
        ctx.io.out(`# ${role}`);
        const rows = list.map((a) => [a.resourceType, a.patternType, a.name, a.operation, a.why]);
        for (const line of table([['RESOURCE', 'PATTERN', 'NAME', 'OPERATION', 'WHY'], ...rows])) ctx.io.out(line);
      }
    }
    return Promise.resolve(0);
  },
};
