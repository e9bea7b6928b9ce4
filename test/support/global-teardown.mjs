import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Stops what global-setup started, and only that.
export default function globalTeardown() {
  const cwd = fileURLToPath(new URL('../..', import.meta.url));
  if (process.env.E2E_STARTED_REGISTRY === '1') execFileSync('bash', ['scripts/registry.sh', 'down'], { cwd, stdio: 'inherit' });
  if (process.env.E2E_STARTED_KAFKA === '1') execFileSync('bash', ['scripts/kafka.sh', 'down'], { cwd, stdio: 'inherit' });
}
