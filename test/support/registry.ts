/**
 * The schema registry the e2e tests use: SCHEMA_REGISTRY_URL (its Confluent-compatible API), set by
 * global-setup.mjs to the project's local Apicurio Registry (scripts/registry.sh) unless given.
 */
export function schemaRegistryUrl(): string {
  const url = process.env.SCHEMA_REGISTRY_URL;
  if (!url) throw new Error('SCHEMA_REGISTRY_URL is not set: run the e2e tests through Jest\'s e2e project, whose global setup starts scripts/registry.sh');
  return url.replace(/\/+$/, '');
}

/** One call of the registry's Confluent-compatible API (JSON in and out). */
export async function registryCall(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${schemaRegistryUrl()}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', accept: 'application/vnd.schemaregistry.v1+json, application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Registers a schema under `subject` (`{schema, schemaType?}`): the registry's answer. */
export const registerSchema = (subject: string, schema: { schema: string; schemaType?: 'AVRO' | 'PROTOBUF' | 'JSON' }) =>
  registryCall('POST', `/subjects/${encodeURIComponent(subject)}/versions`, schema);
