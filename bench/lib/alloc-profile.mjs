// Preloaded into an app (NODE_OPTIONS=--import=<this file>): V8's sampling heap profiler over the
// whole run, objects already collected included, so it shows who allocates (what the garbage
// collector spends its time on), not only what is still alive. Written on SIGTERM as
// $ALLOC_PROFILE_DIR/alloc-<pid>.json (default: the system's temp directory); summarise it with
// `node bench/compare/alloc-summary.mjs <file>`.
//
//   node bench/compare/run.mjs --peers=gateway-tuned --scenarios=S1 --runs=1 --no-docs \
//     --app-env=NODE_OPTIONS=--import=$PWD/bench/lib/alloc-profile.mjs
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dir = process.env.ALLOC_PROFILE_DIR || tmpdir();
const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.once('SIGTERM', () => {
  session.post('HeapProfiler.stopSampling', (err, res) => {
    if (err) return;
    const file = path.join(dir, `alloc-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(res.profile));
    process.stderr.write(`allocation profile: ${file}\n`);
  });
});
