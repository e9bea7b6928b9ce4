import { readFileSync } from 'node:fs';
import { CHECKS } from './config.checks.js';
import { ConfigValueError } from './config.parsers.js';
import { derive, type GatewayConfig, type ParsedConfig, type Setting, SETTINGS } from './config.schema.js';
import { isUnder, place } from './config.tree.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The sections only the apps need (API_TOKENS, SECRETS_KEY, ...); the CLI's lenient read skips them. */
const APP_ONLY = ['api', 'subscriptions'] as const satisfies readonly (keyof GatewayConfig)[];

/** What the operator CLI reads: every setting but the apps' own secrets (API_TOKENS, SECRETS_KEY). */
export type CliConfig = Omit<GatewayConfig, (typeof APP_ONLY)[number]>;

/**
 * Reads every setting from `env`, and throws one ConfigError listing every bad or
 * missing key. Nothing else in the gateway reads process.env. Every secret setting can
 * also come from a file named by `<NAME>_FILE` (a mounted Kubernetes Secret, say).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return derive(readSettings(env, () => true) as ParsedConfig);
}

/** The lenient read for the operator CLI: the same schema, without the apps' own (required) settings. */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  return derive(readSettings(env, (s) => !APP_ONLY.some((section) => isUnder(s.path, section))) as Omit<ParsedConfig, (typeof APP_ONLY)[number]>);
}

/** The settings `wanted` picks, each parsed and put at its path, then the checks of those read. */
function readSettings(env: NodeJS.ProcessEnv, wanted: (setting: Setting) => boolean): Record<string, unknown> {
  const problems: string[] = [];
  const tree: Record<string, unknown> = {};
  /** Paths of the settings not read (skipped, or with a problem): the checks reading them do not run. */
  const unread: string[] = [];
  for (const setting of SETTINGS) {
    const problem = wanted(setting) ? readSetting(env, setting, tree) : null;
    if (problem === undefined) continue;
    unread.push(setting.path);
    if (problem !== null) problems.push(problem);
  }
  for (const check of CHECKS) {
    if (!check.reads.some((prefix) => unread.some((path) => isUnder(path, prefix)))) problems.push(...check.problems(tree as ParsedConfig));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return tree;
}

/** Parses one setting into `tree`, or says what is wrong with it. */
function readSetting(env: NodeJS.ProcessEnv, setting: Setting, tree: Record<string, unknown>): string | undefined {
  let raw: string | undefined;
  try {
    raw = rawValue(env, setting);
  } catch (err) {
    if (!(err instanceof ConfigValueError)) throw err;
    return err.message;
  }
  if (raw === undefined) return `${setting.env} is required: ${setting.description}`;
  try {
    place(tree, setting.path, setting.parse(raw));
  } catch (err) {
    if (!(err instanceof ConfigValueError)) throw err;
    const shown = setting.secret ? '<redacted>' : raw;
    return `${setting.env}=${shown} ${err.message}`;
  }
  return undefined;
}

/** A setting's text: from the environment, from `<NAME>_FILE` for a secret, or its default. */
function rawValue(env: NodeJS.ProcessEnv, setting: Setting): string | undefined {
  const file = setting.secret ? env[`${setting.env}_FILE`] : undefined;
  if (file === undefined || file === '') return env[setting.env] ?? setting.default;
  if (env[setting.env] !== undefined) throw new ConfigValueError(`${setting.env} and ${setting.env}_FILE are both set: set one`);
  try {
    // A mounted secret file usually ends with a newline that is not part of the secret.
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigValueError(`${setting.env}_FILE=${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
