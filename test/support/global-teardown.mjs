import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function globalTeardown() {
  if (process.env.E2E_STARTED_KAFKA !== '1') return;
  execFileSync('bash', ['scripts/kafka.sh', 'down'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'inherit' });
}
