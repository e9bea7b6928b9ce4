import { type LoggerService, Logger } from '@nestjs/common';
import { parseArgs } from 'node:util';
import { type CliConfig, ConfigError, loadCliConfig } from '@app/config';
import { type Command, type CommandContext, type Io, UsageError } from './command.js';
import { acls } from './commands/acls.command.js';
import { attempts } from './commands/attempts.command.js';
import { dlqReplay } from './commands/dlq.command.js';
import { lag } from './commands/lag.command.js';
import { resultsTail } from './commands/results.command.js';
import { subscriptionsCreate, subscriptionsList, subscriptionsShow } from './commands/subscriptions.command.js';
import { ApiError, GatewayApiClient } from './gateway-api.client.js';

export const BIN = 'webhook-gateway';
export const COMMANDS: Command[] = [resultsTail, attempts, subscriptionsList, subscriptionsCreate, subscriptionsShow, dlqReplay, lag, acls];

const ENVIRONMENT = [
  'Environment (the same variables as the apps; see the README):',
  '  KAFKA_BROKERS, KAFKA_CLIENT_ID, TOPIC_PREFIX     results tail, lag, acls',
  '  KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_OAUTH_*   TLS and SASL (results tail, lag)',
  '  SOURCE_GROUP_ID, DELIVERY_GROUP_ID                lag',
  '  GATEWAY_API_URL (default http://127.0.0.1:3000)  attempts, subscriptions, dlq',
  '  GATEWAY_API_TOKEN (one of API_TOKENS)',
];

const usageLine = (c: Command) => `${BIN} ${[...c.name, ...(c.args ?? [])].join(' ')} [options]`;

export function commandHelp(c: Command): string[] {
  const width = Math.max(...Object.keys(c.help).map((k) => k.length), '--help'.length);
  return [
    `usage: ${usageLine(c)}`,
    '',
    c.summary,
    '',
    'options:',
    ...Object.entries({ ...c.help, '--help': 'show this help' }).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    ...(c.notes ? ['', ...c.notes] : []),
  ];
}

export function mainHelp(prefix: string[] = []): string[] {
  const shown = COMMANDS.filter((c) => prefix.every((w, i) => c.name[i] === w));
  const width = Math.max(...shown.map((c) => [...c.name, ...(c.args ?? [])].join(' ').length));
  return [
    `usage: ${BIN} ${prefix.length > 0 ? `${prefix.join(' ')} ` : ''}<command> [options]`,
    '',
    'Operate a Kafka webhook gateway: follow results, inspect attempts, manage subscriptions, replay dead letters, watch lag.',
    '',
    'commands:',
    ...shown.map((c) => `  ${[...c.name, ...(c.args ?? [])].join(' ').padEnd(width)}  ${c.summary}`),
    '',
    `Run \`${BIN} <command> --help\` for its options.`,
    '',
    ...ENVIRONMENT,
  ];
}

/** A log entry as one line: a string, or the `{msg, error?, ...}` object kafkajs' log creator passes. */
function logText(message: unknown): string {
  if (typeof message !== 'object' || message === null) return String(message);
  const { msg, error } = message as { msg?: unknown; error?: unknown };
  return msg === undefined ? JSON.stringify(message) : `${String(msg)}${error ? ` (${String(error)})` : ''}`;
}

/** Nest's logger (kafkajs logs through it) writes to stderr only, warnings and errors: stdout carries results. */
class StderrLogger implements LoggerService {
  log(): void {}
  warn(message: unknown, ...params: unknown[]): void {
    StderrLogger.write('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    StderrLogger.write('error', message, params);
  }
  /** Nest passes the context last (after the stack, for errors). */
  private static write(level: string, message: unknown, params: unknown[]): void {
    const context = params.at(-1);
    process.stderr.write(`${level} ${typeof context === 'string' ? `[${context}] ` : ''}${logText(message)}\n`);
  }
}

/** Runs one command line; resolves to the exit code. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io, signal: AbortSignal): Promise<number> {
  Logger.overrideLogger(new StderrLogger());
  const words = argv.filter((a) => !a.startsWith('-'));
  const command = COMMANDS.find((c) => c.name.every((w, i) => words[i] === w));
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (!command) {
    const prefix = words.length > 0 && COMMANDS.some((c) => c.name[0] === words[0]) ? [words[0]!] : [];
    mainHelp(prefix).forEach((l) => io.out(l));
    if (wantsHelp || argv.length === 0) return 0;
    io.err(prefix.length > 0 && words.length === 1 ? `\n${BIN} ${words[0]}: name one of its commands` : `\n${BIN}: unknown command "${words.join(' ')}"`);
    return 2;
  }
  if (wantsHelp) {
    commandHelp(command).forEach((l) => io.out(l));
    return 0;
  }
  let config: CliConfig | undefined;
  let api: GatewayApiClient | undefined;
  try {
    const rest = argv.slice(argv.indexOf(command.name.at(-1)!) + 1);
    const { values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    const expected = command.args?.length ?? 0;
    if (positionals.length !== expected) throw new UsageError(expected === 0 ? `unexpected argument "${positionals[0]}"` : `expected ${command.args!.join(' ')}`);
    const ctx: CommandContext = {
      values,
      positionals,
      io,
      signal,
      config: () => (config ??= loadCliConfig(env)),
      api: () => (api ??= new GatewayApiClient(ctx.config().cli.apiUrl, ctx.config().cli.apiToken)),
    };
    return await command.run(ctx);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${BIN}: ${(err as Error).message}`);
      io.err(`usage: ${usageLine(command)}  (--help for options)`);
      return 2;
    }
    if (err instanceof ConfigError) io.err(err.message);
    else if (err instanceof ApiError) io.err(`${BIN}: the management API answered ${err.message}`);
    else io.err(`${BIN}: ${(err as Error).message}`);
    return 1;
  }
}
