// Helpers shared by the scripts that run the gateway locally (scripts/demo.mjs, bench/delivery/run.mjs).
import { createServer } from 'node:net';

// kafkajs 2.2.4 calls setTimeout with a negative delay when no throttling is in place
// (src/network/requestQueue/index.js: `this.throttledUntil - Date.now()` with throttledUntil = -1),
// which Node >= 23 reports as a harmless TimeoutNegativeWarning.
/** Node flags for the Node processes these scripts start (the gateway apps and the kafkajs bench peer). */
export const NODE_FLAGS = ['--disable-warning=TimeoutNegativeWarning'];
// --max-semi-space-size=16 (MB): under load V8 grows each app's young generation to its default
// maximum (134 MB here) though little of it survives; at 16 MB both apps used about 150 MB less RSS
// in S1 at the same throughput and CPU (docs/benchmarks.md, "Memory"). Also in package.json's
// start scripts and the Dockerfile.
/** Node flags for the gateway apps. */
export const APP_NODE_FLAGS = [...NODE_FLAGS, '--max-semi-space-size=16'];

/** Keeps kafkajs' TimeoutNegativeWarning out of this process's output; other warnings still print. */
export function quietKafkajsWarnings() {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name !== 'TimeoutNegativeWarning') console.warn(`(node) ${warning.name}: ${warning.message}`);
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
