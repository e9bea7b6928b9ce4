import { runCli } from './cli.js';

/** The operator CLI (`webhook-gateway`, see bin/): the one place it reads process.env and argv. */
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
// `webhook-gateway results tail | head`: a closed pipe ends the command quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const io = { out: (line: string) => void process.stdout.write(`${line}\n`), err: (line: string) => void process.stderr.write(`${line}\n`) };
const code = await runCli(process.argv.slice(2), process.env, io, controller.signal);
// The command is done: exit now, whatever kafkajs still has scheduled (retries of a failed connection).
process.exit(code);
