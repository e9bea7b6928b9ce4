// Plain ESM (Jest loads global setup outside its module system).
// Starts, side by side, the project's local broker and local schema registry when none answers;
// global-teardown stops only what this started. Jest's workers inherit the environment set here.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import globalTeardown from './global-teardown.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function reachable(hostPort) {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port), timeout: 1000 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Runs `bash scripts/<script> up` (its output goes to the terminal); rejects naming the script when it fails. */
function up(script) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [`scripts/${script}`, 'up'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`scripts/${script} up failed (${signal ?? `exit code ${code}`}); its reason is printed above`)),
    );
  });
}

async function kafka() {
  // The project's local broker listens on KAFKA_PORT (scripts/kafka.sh), 9092 by default.
  const first = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`).split(',')[0];
  if (await reachable(first)) return;
  if (process.env.KAFKA_BROKERS) throw new Error(`KAFKA_BROKERS=${process.env.KAFKA_BROKERS} does not answer`);
  await up('kafka.sh');
  process.env.E2E_STARTED_KAFKA = '1';
}

/** Answers GET <url>/subjects like a Confluent-compatible schema registry? */
async function registryAnswers(url) {
  try {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function registry() {
  // The project's local Apicurio Registry (scripts/registry.sh) on REGISTRY_PORT, 18081 by default.
  const given = process.env.SCHEMA_REGISTRY_URL;
  const url = given ?? `http://127.0.0.1:${process.env.REGISTRY_PORT ?? 18081}/apis/ccompat/v7`;
  process.env.SCHEMA_REGISTRY_URL = url;
  if (await registryAnswers(url)) return;
  if (given) throw new Error(`SCHEMA_REGISTRY_URL=${given} does not answer GET /subjects`);
  await up('registry.sh');
  process.env.E2E_STARTED_REGISTRY = '1';
}

export default async function globalSetup() {
  // Both start at once. A failure of either fails the run, once the other has settled: what did
  // start is stopped then (Jest runs no global teardown after a failed global setup).
  const results = await Promise.allSettled([kafka(), registry()]);
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (failed.length === 0) return;
  globalTeardown();
  throw failed.length === 1 ? failed[0] : new AggregateError(failed, failed.map((e) => e.message).join('; '));
}
