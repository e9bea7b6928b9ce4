import { existsSync, readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import type { GatewayAcl } from '@app/topology';
import { testKafka } from './kafka.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** What `scripts/kafka.sh up` writes about the local broker's secured listeners (kafka/README.md). */
export interface SecureBroker {
  plaintext: string;
  saslSsl: string;
  mtls: string;
  oauth: string;
  oidc: { issuer: string; tokenUrl: string; jwksUrl: string; audience: string; tokenLifetimeSeconds: number; clients: Record<string, string> };
  ca: string;
  otherCa: string;
  mtlsClients: Record<string, { cert: string; key: string; passphrase?: string }>;
  scram: Record<string, string>;
  plain: Record<string, string>;
  reauthMs: number;
}

/** The descriptor of the broker the e2e tests use: KAFKA_SECURE_DESCRIPTOR, or the one in KAFKA_DATA_DIR (default .cache/kafka/data). */
export function secureBroker(): SecureBroker {
  const dataDir = process.env.KAFKA_DATA_DIR ?? new URL('../../.cache/kafka/data', import.meta.url).pathname;
  const path = process.env.KAFKA_SECURE_DESCRIPTOR ?? `${dataDir}/secure/broker.json`;
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: the Kafka security tests need the local broker's secured listeners, started by scripts/kafka.sh up ` +
        '(with KAFKA_BROKERS pointing elsewhere, set KAFKA_SECURE_DESCRIPTOR to that broker\'s descriptor)',
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as SecureBroker;
}

/** A filter that matches every ACL of the principal. */
const everyAclOf = (principal: string) => ({
  resourceType: AclResourceTypes.ANY,
  resourcePatternType: ResourcePatternTypes.ANY,
  principal,
  host: '*',
  operation: AclOperationTypes.ANY,
  permissionType: AclPermissionTypes.ANY,
});

/** kafkajs' ACL bindings for the gateway's ACL list, for one principal. */
function bindings(principal: string, acls: GatewayAcl[]) {
  return acls.map((acl) => ({
    resourceType: AclResourceTypes[acl.resourceType],
    resourceName: acl.name,
    resourcePatternType: ResourcePatternTypes[acl.patternType],
    principal,
    host: '*',
    operation: AclOperationTypes[acl.operation],
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/**
 * Gives the principal exactly these ACLs (its earlier ones are removed first), as a super user (the
 * PLAINTEXT listener's ANONYMOUS principal), and waits until the broker applies them.
 */
export async function grantAcls(principal: string, acls: GatewayAcl[]): Promise<void> {
  await revokeAcls(principal);
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: bindings(principal, acls) });
    // ACLs go through the KRaft metadata log: wait until the broker's authorizer shows all of them.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { resources } = await admin.describeAcls(everyAclOf(principal));
      const count = resources.reduce((n, r) => n + r.acls.length, 0);
      if (count >= new Set(acls.map((a) => `${a.resourceType}|${a.patternType}|${a.name}|${a.operation}`)).size) return;
      if (Date.now() > deadline) throw new Error(`ACLs of ${principal}: ${count} of ${acls.length} visible after 15 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Removes every ACL of the principal. */
export async function revokeAcls(principal: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.deleteAcls({ filters: [everyAclOf(principal)] });
  } finally {
    await admin.disconnect();
  }
}
