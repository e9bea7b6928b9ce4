import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { APP_NODE_FLAGS, freePort } from '../../scripts/lib/local.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const READY_TIMEOUT_MS = 120_000;

export type AppName = 'producer' | 'delivery';

/**
 * One built gateway app (dist/apps/<name>/src/main.js) in a process of its own, configured
 * through its environment like in production, so that it can be killed for real. Its output
 * goes to .cache/chaos-logs/<label>.log.
 */
export class AppProcess {
  /** Every app process started and not yet ended, for the clean-up of a failed test. */
  private static readonly alive = new Set<AppProcess>();
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private starts = 0;
  port?: number;

  constructor(
    readonly name: AppName,
    readonly label: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts the app and resolves once its /readyz answers 200. */
  async start(): Promise<this> {
    const entry = path.join(ROOT, `dist/apps/${this.name}/src/main.js`);
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npm run build, or npm run test:chaos builds)`);
    this.port = await freePort();
    const portVar = this.name === 'producer' ? 'API_PORT' : 'DELIVERY_PORT';
    mkdirSync(path.join(ROOT, '.cache/chaos-logs'), { recursive: true });
    const log = createWriteStream(path.join(ROOT, `.cache/chaos-logs/${this.label}.log`), { flags: this.starts++ ? 'a' : 'w' });
    const child = spawn(process.execPath, [...APP_NODE_FLAGS, entry], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env, [portVar]: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    this.child = child;
    AppProcess.alive.add(this);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        AppProcess.alive.delete(this);
        resolve();
      }),
    );
    await this.waitReady(child);
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills every app process still running (a test that failed half-way). */
  static async killAll(): Promise<void> {
    await Promise.all([...AppProcess.alive].map((a) => a.stop('SIGKILL')));
  }

  /** Sends `signal` (SIGKILL: kill -9; SIGTERM: graceful stop) and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    await this.exited;
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${this.label} exited with ${child.exitCode} before it was ready (see .cache/chaos-logs/${this.label}.log)`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.label} was not ready after ${READY_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
