import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';
import type { Writable } from 'node:stream';
import type { GatewayConfig } from '@app/config';

/** Object keys whose values never reach a log line, at any depth pino can address. */
const REDACTED_KEYS = [
  'authorization', 'secret', 'secrets', 'token', 'tokens', 'password', 'secretsKey', 'sealed', 'webhook-signature', 'signature',
  // An endpoint's OAuth2 client secret and access tokens (API and token-endpoint spelling, and the gateway's own).
  'client_secret', 'clientSecret', 'access_token', 'accessToken', 'refresh_token',
];
const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => {
  const step = /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `["${k}"]`;
  return [step.startsWith('.') ? k : step, `*${step}`, `*.*${step}`, `*.*.*${step}`];
});
const CENSOR = '[redacted]';

/** Secrets inside free text: Standard Webhooks secrets, bearer tokens, HTTP Basic credentials, signature values. */
const TEXT_SECRETS: [RegExp, string][] = [
  [/whsec_[A-Za-z0-9+/=_-]+/g, `whsec_${CENSOR}`],
  [/\b(Bearer)\s+[^\s"',]+/gi, `$1 ${CENSOR}`],
  [/\b(Basic)\s+[A-Za-z0-9+/]{6,}={0,2}(?=[\s"',]|$)/g, `$1 ${CENSOR}`],
  [/\bv1,[A-Za-z0-9+/=]{20,}/g, `v1,${CENSOR}`],
];

/** Free text with every secret-looking part replaced. */
export function scrub(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_SECRETS) out = out.replace(pattern, replacement);
  return out;
}

const NEST_TO_PINO: Record<LogLevel, string> = { fatal: 'fatal', error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

/**
 * The apps' logger: Nest's LoggerService over pino. JSON lines by default
 * (`LOG_FORMAT=text` for one readable line each). A message may be a string or
 * an object of fields (`{msg, webhookId, subscriptionId, ...}`); keys such as
 * `authorization`, `secret` and `token` are redacted wherever they appear, and
 * secret-looking text (whsec_…, Bearer …, v1,<signature>) is scrubbed from
 * every string, so a secret cannot reach the logs by accident.
 */
export class GatewayLogger implements LoggerService {
  private readonly pino: Pino;

  constructor(config: Pick<GatewayConfig, 'logLevel' | 'logFormat'>, app: string, destination: Writable = process.stdout) {
    const level = NEST_TO_PINO[config.logLevel];
    this.pino = pino(
      {
        level,
        base: { app },
        messageKey: 'msg',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: REDACT_PATHS, censor: CENSOR },
        hooks: {
          streamWrite: (line) => (config.logFormat === 'text' ? toText(line) : scrub(line)),
        },
      },
      destination,
    );
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes (message, context) or, for errors, (message, stack, context). */
  private write(level: LogLevel, message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = level === 'error' || level === 'fatal' ? rest.find((r, i) => i < rest.length - 1 && typeof r === 'string') : undefined;
    const fields: Record<string, unknown> = { context };
    if (stack) fields.stack = stack;
    const method = NEST_TO_PINO[level] as 'info';
    if (message instanceof Error) this.pino[method]({ ...fields, err: message }, message.message);
    else if (message !== null && typeof message === 'object') {
      const { msg, message: text, ...more } = message as Record<string, unknown>;
      this.pino[method]({ ...fields, ...more }, String(msg ?? text ?? ''));
    } else this.pino[method](fields, String(message));
  }
}

/** `LOG_FORMAT=text`: `time LEVEL [context] message key=value ...`, scrubbed like JSON lines. */
function toText(line: string): string {
  try {
    const { time, level, context, msg, app: _app, pid: _pid, hostname: _host, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return scrub(`${String(time)} ${String(level).toUpperCase()} [${String(context ?? '-')}] ${String(msg)}${extra ? ` ${extra}` : ''}\n`);
  } catch {
    return scrub(line);
  }
}
