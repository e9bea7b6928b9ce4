/**
 * The schema registry the e2e tests use: SCHEMA_REGISTRY_URL (its Confluent-compatible API), set by
 * global-setup.mjs to the project's local Apicurio Registry (scripts/registry.sh) unless given.
 */
export function schemaRegistryUrl(): string {
  const url = process.env.SCHEMA_REGISTRY_URL;
  if (!url) throw new Error('SCHEMA_REGISTRY_URL is not set: run the e2e tests through Jest\'s e2e project, whose global setup starts scripts/registry.sh');
  return url.replace(/\/+$/, '');
}
