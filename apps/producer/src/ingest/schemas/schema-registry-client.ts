import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { RestError } from '@confluentinc/schemaregistry';
import { RestService } from '@confluentinc/schemaregistry/dist/rest-service.js';
import type { GatewayConfig } from '@app/config';

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON';

/** A schema as the Confluent API (and Apicurio's ccompat API) gives it. */
export interface RegistrySchema {
  schema: string;
  /** Absent: Avro. */
  schemaType?: SchemaType;
  references?: { name: string; subject: string; version: number }[];
}

/** The registry knows no such schema (404): the record that names it is bad input. */
export class SchemaNotFound extends Error {}

/** The registry could not answer (unreachable, timeout, 5xx, refused credentials): not the record's fault; ask again later. */
export class RegistryUnavailable extends Error {}

/** What the decoder asks the registry. */
export interface SchemaSource {
  byId(id: number): Promise<RegistrySchema>;
  byVersion(subject: string, version: number): Promise<RegistrySchema>;
  /** The subjects (and versions) a schema id is registered under, for messages. */
  subjectsOf(id: number): Promise<{ subject: string; version: number }[]>;
}

/** Longest wait for one registry request. */
export const REGISTRY_TIMEOUT_MS = 5_000;

/**
 * The schema registry over HTTP, through @confluentinc/schemaregistry's RestService (URLs tried in
 * order, Basic or bearer authorization, axios). No retries of its own: the caller decides when to
 * ask again. Errors come out as SchemaNotFound or RegistryUnavailable, naming the registry's
 * status and error code, never a credential.
 */
export class HttpSchemaSource implements SchemaSource {
  private readonly rest: RestService;

  constructor(settings: GatewayConfig['source']['schemaRegistry'], timeoutMs = REGISTRY_TIMEOUT_MS) {
    const httpsAgent = settings.caFile ? new Agent({ ca: readFileSync(settings.caFile) }) : undefined;
    const basic = settings.username ? { credentialsSource: 'USER_INFO' as const, userInfo: `${settings.username}:${settings.password ?? ''}` } : undefined;
    this.rest = new RestService(settings.urls, false, { timeout: timeoutMs, httpsAgent, proxy: false }, basic, undefined, 0);
    // Its bearer credentials are Confluent Cloud's (they require a logical cluster): a plain token goes as the header.
    if (settings.token) this.rest.setAuth(undefined, settings.token);
  }

  byId(id: number): Promise<RegistrySchema> {
    return this.get<RegistrySchema>(`/schemas/ids/${id}`, `schema id ${id}`);
  }

  byVersion(subject: string, version: number): Promise<RegistrySchema> {
    return this.get<RegistrySchema>(`/subjects/${encodeURIComponent(subject)}/versions/${version}`, `subject ${subject} version ${version}`);
  }

  subjectsOf(id: number): Promise<{ subject: string; version: number }[]> {
    return this.get(`/schemas/ids/${id}/versions`, `the subjects of schema id ${id}`);
  }

  private async get<T>(path: string, what: string): Promise<T> {
    try {
      return (await this.rest.handleRequest<T>(path, 'GET')).data;
    } catch (err) {
      if (err instanceof RestError && err.status === 404) throw new SchemaNotFound(`the schema registry has no ${what} (${err.status}, error code ${err.errorCode})`);
      if (err instanceof RestError) throw new RegistryUnavailable(`the schema registry answered ${err.status} (error code ${err.errorCode}) for ${what}`);
      const code = (err as { code?: string }).code;
      throw new RegistryUnavailable(`the schema registry is unreachable for ${what}: ${code ? `${code} ` : ''}${(err as Error).message}`);
    }
  }
}
