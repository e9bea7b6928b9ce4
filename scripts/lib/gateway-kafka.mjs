// The gateway's Kafka settings for the scripts that run it locally (scripts/demo.mjs, the benches):
// their own Kafka clients (load generators, readers, admins) are built by the gateway's createKafka
// from dist/, like every client of the apps, so that they connect the way the apps do (TLS, SASL,
// OAUTHBEARER; KAFKA_SECURITY_PROTOCOL and friends); and the environment of the apps they start.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The settings that say how to connect to the brokers: KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_OAUTH_* (and their <NAME>_FILE forms). */
const KAFKA_CONNECTION = /^KAFKA_(SECURITY_PROTOCOL|SSL_|SASL_|OAUTH_)/;

/**
 * The Kafka connection settings of `env` (by default the caller's), the files they name made
 * absolute: the apps a script starts and the script's own clients both get them, whatever their
 * working directory.
 */
export function kafkaConnectionEnv(env = process.env) {
  const out = {};
  for (const [name, value] of Object.entries(env)) {
    if (!KAFKA_CONNECTION.test(name) || value === undefined) continue;
    out[name] = name.endsWith('_FILE') && value !== '' ? path.resolve(value) : value;
  }
  return out;
}

/**
 * The caller's environment without any gateway setting (the SETTINGS of <root>/dist/libs/config,
 * each also as <NAME>_FILE), the base of the environment of the apps a script starts.
 */
export async function withoutGatewaySettings(root = ROOT) {
  const env = { ...process.env };
  try {
    const { SETTINGS } = await import(pathToFileURL(path.join(root, 'dist/libs/config/src/config.schema.js')).href);
    for (const s of Object.values(SETTINGS)) {
      delete env[s.env];
      delete env[`${s.env}_FILE`];
    }
  } catch {
    // An older dist/ without that module: the values the caller sets still win.
  }
  return env;
}

/** loadCliConfig and createKafka (with KafkaCredentials) from this repository's dist/, or an error that says to build it. */
async function gatewayModules() {
  const load = async (lib) => {
    const file = path.join(ROOT, `dist/libs/${lib}/src/index.js`);
    try {
      return await import(pathToFileURL(file).href);
    } catch (err) {
      const missing = err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(file);
      const problem = missing ? "is missing: run 'npm run build' first" : `does not load (${err.message}); if dist/ is out of date, run 'npm run build'`;
      throw new Error(`${path.relative(ROOT, file)} ${problem}`, { cause: err });
    }
  };
  const [config, kafka] = await Promise.all([load('config'), load('kafka')]);
  if (typeof config.loadCliConfig !== 'function' || typeof kafka.createKafka !== 'function' || typeof kafka.KafkaCredentials !== 'function') {
    throw new Error("dist/ is older than the scripts (no loadCliConfig, createKafka or KafkaCredentials in dist/libs): run 'npm run build' first");
  }
  return { loadCliConfig: config.loadCliConfig, createKafka: kafka.createKafka, KafkaCredentials: kafka.KafkaCredentials };
}

/**
 * A kafkajs client for a script, from the gateway's createKafka (dist/): clientId
 * `<KAFKA_CLIENT_ID>-<clientName>`, TLS and SASL as the gateway settings in `settings` say (by
 * default the caller's Kafka connection settings, as the benches pass them to their apps), and
 * `brokers` and `clientId` instead of KAFKA_BROKERS and KAFKA_CLIENT_ID. Like the apps, it first
 * checks the brokers' TLS certificates and waits for the first OAUTHBEARER token, so that a wrong
 * setting is named at once.
 */
export async function gatewayKafka(clientName, { brokers, clientId, settings = kafkaConnectionEnv(), logLevel, retry } = {}) {
  const { loadCliConfig, createKafka, KafkaCredentials } = await gatewayModules();
  const config = loadCliConfig({
    ...settings,
    ...(brokers && { KAFKA_BROKERS: brokers.join(',') }),
    ...(clientId && { KAFKA_CLIENT_ID: clientId }),
  });
  const credentials = new KafkaCredentials(config.kafka.security);
  await credentials.preflight(config.kafka.brokers);
  return createKafka(config, clientName, { credentials, logLevel, retry });
}
