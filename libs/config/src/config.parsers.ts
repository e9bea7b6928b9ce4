/** The parsers of the settings: each turns an environment value into a typed one or throws a ConfigValueError. */

import { accessSync, constants as fsConstants } from 'node:fs';

export type Parser<T> = (raw: string) => T;

export class ConfigValueError extends Error {}

const fail = (message: string): never => {
  throw new ConfigValueError(message);
};

export const int =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) fail(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) fail(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };

export const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

export const nonEmptyList: Parser<string[]> = (raw) => {
  const items = list(raw);
  if (items.length === 0) fail('must list at least one value');
  return items;
};

export const str: Parser<string> = (raw) => {
  if (raw.trim() === '') fail('must not be empty');
  return raw.trim();
};

/** Comma-separated http(s) URLs; empty = none. */
export const httpUrls: Parser<string[]> = (raw) => list(raw).map((url) => optionalHttpUrl(url));

/** Empty, or an http(s) URL. */
export const optionalHttpUrl: Parser<string> = (raw) => {
  const value = raw.trim();
  if (value === '') return '';
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    fail(`must be an http(s) URL, got "${value}"`);
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:') fail(`must be an http(s) URL, got "${value}"`);
  return value;
};

export const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return fail(`must be true or false, got "${raw}"`);
};

export const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    const v = raw.trim() as T;
    if (!values.includes(v)) fail(`must be one of ${values.join(', ')}, got "${raw}"`);
    return v;
  };

export const brokers: Parser<string[]> = (raw) => {
  const items = nonEmptyList(raw);
  for (const b of items) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) fail(`"${b}" is not host:port`);
  }
  return items;
};

/** `tenant:token,tenant:token` (a token may contain `:`; a tenant may not). */
export const tenantTokens: Parser<{ tenant: string; token: string }[]> = (raw) =>
  list(raw).map((pair) => {
    const at = pair.indexOf(':');
    const tenant = pair.slice(0, at).trim();
    const token = pair.slice(at + 1).trim();
    if (at <= 0 || tenant === '' || token === '') fail('must be <tenant>:<token> pairs, comma-separated');
    return { tenant, token };
  });

export const optionalStr: Parser<string | undefined> = (raw) => raw.trim() || undefined;

/**
 * CSP `frame-ancestors` sources, comma- or space-separated: `'self'`, or origins like
 * `https://app.example.com`, `https://*.example.com:8443`, `http://localhost:*` (scheme, host, port; no path). Anything
 * else fails, so the value cannot add a directive to the policy it is written into.
 */
export const frameAncestors: Parser<string[]> = (raw) =>
  raw
    .split(/[\s,]+/)
    .filter((s) => s.length > 0)
    .map((source) => {
      if (source === "'self'") return source;
      if (!/^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?$/i.test(source)) {
        fail(`"${source}" is not 'self' or an origin such as https://app.example.com or https://*.example.com`);
      }
      return source.toLowerCase();
    });

/** Empty, or the path of a file this process can read (checked at boot, so a bad mount fails at once). */
export const optionalReadableFile: Parser<string | undefined> = (raw) => {
  const path = raw.trim();
  if (path === '') return undefined;
  try {
    accessSync(path, fsConstants.R_OK);
  } catch (err) {
    fail(`cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return path;
};

/** Upper-cased member of a list, matched case-insensitively; empty is undefined. */
export const optionalUpperOneOf =
  <T extends string>(...values: readonly T[]): Parser<T | undefined> =>
  (raw) => {
    const v = raw.trim().toUpperCase() as T;
    if (v === '') return undefined;
    if (!values.includes(v)) fail(`must be one of ${values.join(', ')}, got "${raw}"`);
    return v;
  };

/** `key=value,key=value` (SASL extensions). */
export const keyValues: Parser<Record<string, string>> = (raw) =>
  Object.fromEntries(
    list(raw).map((pair) => {
      const at = pair.indexOf('=');
      const key = pair.slice(0, at).trim();
      if (at <= 0 || key === '') fail('must be key=value pairs, comma-separated');
      return [key, pair.slice(at + 1).trim()];
    }),
  );

/** An HTTP CONNECT proxy: where it listens and the Basic credentials of its URL, if any. */
export interface ProxySetting {
  host: string;
  port: number;
  /** `Basic …` for Proxy-Authorization, when the URL has a user. */
  authorization?: string;
}

/** Empty, or `http://[user:pass@]host:port` (the value is a secret: messages never repeat it). */
export const optionalProxyUrl: Parser<ProxySetting | undefined> = (raw) => {
  const value = raw.trim();
  if (value === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'http:') return fail('must be an http://[user:pass@]host:port URL');
  if (url.port === '') return fail('must name the proxy port (http://host:port)');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') return fail('must be only http://[user:pass@]host:port, without a path');
  const credentials = url.username === '' ? undefined : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port),
    ...(credentials !== undefined && { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }),
  };
};

export const httpUrl: Parser<string> = (raw) => {
  const v = raw.trim().replace(/\/+$/, '');
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) fail(`"${raw}" is not an http(s) URL`);
  return v;
};

export const dottedPath: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(v)) fail(`"${raw}" is not a dotted path like data.project.name`);
  return v;
};

export const dottedPaths: Parser<string[]> = (raw) => list(raw).map(dottedPath);

export const optionalWebhookSecret: Parser<string | undefined> = (raw) => {
  const v = raw.trim();
  if (v === '') return undefined;
  if (!/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/.test(v)) fail('must be whsec_ followed by 24 to 64 base64-encoded bytes');
  return v;
};

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `5s`, `5m`, `2h`, `5d`, or `0`, in milliseconds. */
export const duration: Parser<number> = (raw) => {
  const v = raw.trim();
  if (v === '0') return 0;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v);
  if (!m) return fail(`"${raw}" is not a duration like 500ms, 5s, 5m, 2h or 5d`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
};

/** `1s,5s,30s,5m`: distinct ascending durations. */
export const durations: Parser<{ label: string; ms: number }[]> = (raw) => {
  const tiers = nonEmptyList(raw).map((label) => ({ label, ms: duration(label) }));
  for (let i = 1; i < tiers.length; i++) if (tiers[i]!.ms <= tiers[i - 1]!.ms) fail('tiers must be ascending and distinct');
  if (tiers[0]!.ms <= 0) fail('tiers must be longer than 0');
  return tiers;
};

export const key32: Parser<Buffer> = (raw) => {
  const v = raw.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (buf.length !== 32) fail('must be 32 bytes, as 64 hex characters or base64 (openssl rand -hex 32)');
  return buf;
};

/** Upper-cased member of a list, matched case-insensitively; required. */
export const upperOneOf =
  <T extends string>(...values: readonly T[]): Parser<T> =>
  (raw) =>
    optionalUpperOneOf(...values)(raw) ?? fail('must not be empty');

/** The opposite of a true-or-false setting (a setting named for the exception, read as the rule). */
export const negated =
  (parse: Parser<boolean>): Parser<boolean> =>
  (raw) =>
    !parse(raw);

/** A header name: not empty, lower-cased (Kafka and HTTP header names are compared lower-case). */
export const headerName: Parser<string> = (raw) => str(raw).toLowerCase();
