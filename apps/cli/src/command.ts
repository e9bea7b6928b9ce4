import type { ParseArgsOptionsConfig } from 'node:util';
import type { CliConfig } from '@app/config';
import type { GatewayApiClient } from './gateway-api.client.js';

/** Where a command writes: stdout for results, stderr for everything else. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface CommandContext {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  io: Io;
  /** The gateway's settings from the environment (read on first use). */
  config(): CliConfig;
  /** The management API at GATEWAY_API_URL with GATEWAY_API_TOKEN. */
  api(): GatewayApiClient;
  /** Aborted on SIGINT/SIGTERM: a following command stops and exits 0. */
  signal: AbortSignal;
}

export interface Command {
  /** The words that name it: `['results', 'tail']`. */
  name: string[];
  /** Positional arguments, as shown in the usage line: `<subscription-id>`. */
  args?: string[];
  summary: string;
  /** Option name → description (the parseArgs config holds types). */
  options: ParseArgsOptionsConfig;
  help: Record<string, string>;
  /** Lines after the options in --help. */
  notes?: string[];
  run(ctx: CommandContext): Promise<number>;
}

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies ParseArgsOptionsConfig;

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function intOption(ctx: CommandContext, name: string, min: number, max: number): number | undefined {
  const raw = stringOption(ctx, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return Number(raw);
}
