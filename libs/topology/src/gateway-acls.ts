import { type GatewayConfig, gatewayGroupPrefixes, gatewayTopics, resultsDigestEnabled } from '@app/config';

export type AclResourceType = 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID';
export type AclOperation = 'READ' | 'WRITE' | 'DESCRIBE' | 'CREATE';

/** One ALLOW ACL a gateway principal needs. Kafka's READ and WRITE imply DESCRIBE. */
export interface GatewayAcl {
  resourceType: AclResourceType;
  patternType: 'LITERAL' | 'PREFIXED';
  name: string;
  operation: AclOperation;
  /** Why the gateway needs it. */
  why: string;
}

/** Who runs with the ACLs: the two apps, and the operator CLI's Kafka commands (`results tail`, `lag`). */
export type GatewayRole = 'producer' | 'delivery' | 'cli';
export const GATEWAY_ROLES: GatewayRole[] = ['producer', 'delivery', 'cli'];

export interface GatewayAclOptions {
  /** The principal may create the topics that are missing (else they are pre-created: README). */
  createTopics?: boolean;
}

type Config = Pick<GatewayConfig, 'kafka' | 'source' | 'delivery' | 'console' | 'portal'>;

/**
 * Exactly the ACLs a role needs with these settings, and nothing more: the README's
 * "Least privilege" section, `webhook-gateway acls`, and the e2e test that runs both apps under
 * principals holding only these are all this one list.
 */
export function gatewayAcls(config: Config, role: GatewayRole, options: GatewayAclOptions = {}): GatewayAcl[] {
  const t = gatewayTopics(config);
  const g = gatewayGroupPrefixes(config);
  const acls: GatewayAcl[] = [];
  const topic = (name: string, operation: AclOperation, why: string) => acls.push({ resourceType: 'TOPIC', patternType: 'LITERAL', name, operation, why });
  const group = (name: string, operation: AclOperation, why: string) => acls.push({ resourceType: 'GROUP', patternType: 'LITERAL', name, operation, why });
  // A process's own groups are `<prefix>.<uuid>`: READ on the prefix.
  const ownGroups = (prefix: string, why: string) => acls.push({ resourceType: 'GROUP', patternType: 'PREFIXED', name: `${prefix}.`, operation: 'READ', why });
  // The topics an app reads or writes; each other topic it ensures needs DESCRIBE only.
  const used = new Set<string>();
  const use = (name: string, operation: AclOperation, why: string) => {
    used.add(name);
    topic(name, operation, why);
  };
  const retries = t.retry.map((r) => r.topic);
  const allGateway = [t.subscriptions, t.health, t.ordering, t.replays, t.eventTypes, t.portalSessions, t.deliveries, ...retries, t.results, t.dlq, t.invalid];
  const ensured = (names: string[]) => {
    // Each app checks at start-up that every topic it ensures exists and has leaders (Metadata).
    for (const name of names) if (!used.has(name)) topic(name, 'DESCRIBE', 'checked at start-up');
    if (options.createTopics) for (const name of names) topic(name, 'CREATE', 'created at start-up when missing');
  };
  switch (role) {
    case 'producer': {
      for (const source of config.source.topics) use(source, 'READ', 'source events');
      use(t.subscriptions, 'READ', 'the subscription registry');
      use(t.subscriptions, 'WRITE', 'the management API writes subscriptions');
      use(t.health, 'READ', 'subscription health (disabled by the gateway, failing since)');
      use(t.deliveries, 'WRITE', 'delivery jobs (fan-out, DLQ replay, test events, retry now)');
      use(t.invalid, 'WRITE', 'unreadable source events');
      use(t.dlq, 'READ', 'DLQ replay' + (resultsDigestEnabled(config) ? ' and the console digest' : ''));
      use(t.replays, 'READ', 'replay marks');
      use(t.replays, 'WRITE', 'replay marks');
      use(t.eventTypes, 'READ', 'the event catalogue');
      use(t.eventTypes, 'WRITE', 'the event catalogue: event types seen by the fan-out');
      use(t.portalSessions, 'READ', 'revoked portal sessions');
      use(t.portalSessions, 'WRITE', 'the management API revokes portal sessions');
      if (resultsDigestEnabled(config)) use(t.results, 'READ', 'the console digest');
      if (resultsDigestEnabled(config)) for (const name of [t.deliveries, ...retries]) use(name, 'READ', 'the console reads the job record of one attempt (its request body, retry now)');
      ensured([...allGateway, ...config.source.topics]);
      group(config.source.groupId, 'READ', 'the source consumer group (its offsets are committed in the fan-out transactions)');
      ownGroups(g.registry, 'the registry reads the subscriptions topic in a group of its own per instance');
      ownGroups(g.health, 'the registry reads the health records in a group of its own per instance');
      ownGroups(g.replays, 'DLQ replay reads the replay marks');
      ownGroups(g.eventTypes, 'the event catalogue is read in a group of its own per instance');
      ownGroups(g.portalSessions, 'each instance reads the revoked portal sessions in a group of its own');
      if (resultsDigestEnabled(config)) ownGroups(g.console, 'the console digest reads results and dead letters');
      acls.push({
        resourceType: 'TRANSACTIONAL_ID',
        patternType: 'PREFIXED',
        name: config.source.transactions ? `${config.source.groupId}.` : dlqReplayTransactionPrefix(config),
        operation: 'WRITE',
        why: config.source.transactions
          ? 'exactly-once fan-out: one transactional producer per source partition (<group>.<topic>.<partition>); DLQ replay writes jobs and marks in one transaction (<group>.dlq-replay.<uuid>)'
          : 'DLQ replay writes jobs and marks in one transaction (<group>.dlq-replay.<uuid>)',
      });
      break;
    }
    case 'delivery': {
      use(t.deliveries, 'READ', 'delivery jobs');
      for (const retry of retries) {
        use(retry, 'READ', 'jobs due for another attempt');
        use(retry, 'WRITE', 'jobs scheduled for another attempt');
      }
      use(t.results, 'WRITE', 'one record per attempt');
      use(t.dlq, 'WRITE', 'dead letters');
      use(t.invalid, 'WRITE', 'unreadable delivery jobs');
      use(t.subscriptions, 'READ', 'the subscription registry');
      use(t.health, 'READ', 'subscription health');
      use(t.health, 'WRITE', 'subscription health: failure streaks, disabled by the gateway (410, auto-disable)');
      use(t.ordering, 'READ', 'the ordering ledger');
      use(t.ordering, 'WRITE', 'the ordering ledger');
      ensured(allGateway);
      group(config.delivery.groupId, 'READ', 'the delivery consumer group');
      ownGroups(g.registry, 'the registry reads the subscriptions topic in a group of its own per instance');
      ownGroups(g.health, 'the registry reads the health records in a group of its own per instance');
      ownGroups(g.ordering, 'the ordering ledger reads its topic in a group of its own per instance');
      break;
    }
    case 'cli': {
      topic(t.results, 'READ', 'results tail');
      ownGroups(g.cli, 'results tail reads in a group of its own per run');
      for (const name of [...config.source.topics, t.deliveries, ...retries]) topic(name, 'DESCRIBE', 'lag: end offsets');
      group(config.source.groupId, 'DESCRIBE', 'lag: committed offsets');
      group(config.delivery.groupId, 'DESCRIBE', 'lag: committed offsets');
      break;
    }
  }
  return acls;
}

/** Prefix of the DLQ replay's transactional ids (one per producer-app instance). */
export function dlqReplayTransactionPrefix(config: Pick<GatewayConfig, 'source'>): string {
  return `${config.source.groupId}.dlq-replay.`;
}

/** Kafka's own CLI spelling of operations. */
const OPERATION_FLAG: Record<AclOperation, string> = { READ: 'Read', WRITE: 'Write', DESCRIBE: 'Describe', CREATE: 'Create' };
const RESOURCE_FLAG: Record<AclResourceType, string> = { TOPIC: '--topic', GROUP: '--group', TRANSACTIONAL_ID: '--transactional-id' };

/** `kafka-acls.sh` commands that grant the ACLs to `principal`, one per resource. */
export function kafkaAclsCommands(acls: GatewayAcl[], principal: string): string[] {
  const byResource = new Map<string, GatewayAcl[]>();
  for (const acl of acls) {
    const key = `${acl.resourceType}|${acl.patternType}|${acl.name}`;
    byResource.set(key, [...(byResource.get(key) ?? []), acl]);
  }
  return [...byResource.values()].map((group) => {
    const [{ resourceType, patternType, name }] = group as [GatewayAcl];
    const ops = group.map((a) => `--operation ${OPERATION_FLAG[a.operation]}`).join(' ');
    const pattern = patternType === 'PREFIXED' ? ' --resource-pattern-type prefixed' : '';
    return `kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config admin.properties --add --allow-principal '${principal}' ${ops} ${RESOURCE_FLAG[resourceType]} '${name}'${pattern}`;
  });
}
