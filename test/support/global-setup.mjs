// Plain ESM (Jest loads global setup outside its module system).
// Starts the project's local broker when none answers; global-teardown stops only what this started.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

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

export default async function globalSetup() {
  // The project's local broker listens on KAFKA_PORT (scripts/kafka.sh), 9092 by default.
  const first = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`).split(',')[0];
  if (await reachable(first)) return;
  if (process.env.KAFKA_BROKERS) throw new Error(`KAFKA_BROKERS=${process.env.KAFKA_BROKERS} does not answer`);
  execFileSync('bash', ['scripts/kafka.sh', 'up'], { cwd: ROOT, stdio: 'inherit' });
  process.env.E2E_STARTED_KAFKA = '1';
}
