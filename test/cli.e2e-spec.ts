import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AttemptResult, DeadLetter } from '@app/contracts';
import { COMMANDS } from '../apps/cli/src/cli.js';
import { API_TOKEN } from './support/gateway.js';
import { testKafka } from './support/kafka.js';
import { GatewayRig } from './support/rig.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = 'bin/webhook-gateway.mjs';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The operator CLI as a user runs it: the built binary (`npm run build`, done here
 * first) in a child process, against the real broker and both apps.
 */
describe('operator CLI (webhook-gateway)', () => {
  const rig = new GatewayRig('cli', { TOPIC_PARTITIONS: '1' }, { read: ['results', 'dlq'] });
  const { gateway, receiver, publisher, source, config } = rig;
  const results = rig.reader('results');
  let env: NodeJS.ProcessEnv;
  const ids = { ok: '', failing: '' };
  const children: ChildProcess[] = [];

  const cli = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const jsonLines = <T>(stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as T);
  const finalResult = (eventId: string, sub: string) =>
    results.waitFor<AttemptResult>((r) => r.eventId === eventId && r.subscriptionId === sub && r.outcome !== 'retry_scheduled');

  beforeAll(async () => {
    // What `npm run build` does: the binary runs the compiled CLI.
    execFileSync(process.execPath, ['node_modules/@nestjs/cli/bin/nest.js', 'build'], { cwd: ROOT, stdio: 'inherit' });
    await rig.start();
    env = {
      PATH: process.env.PATH,
      KAFKA_BROKERS: config.kafka.brokers.join(','),
      TOPIC_PREFIX: config.kafka.topicPrefix,
      SOURCE_GROUP_ID: config.source.groupId,
      DELIVERY_GROUP_ID: config.delivery.groupId,
      GATEWAY_API_URL: (await gateway.apiUrl('')).replace(/\/$/, ''),
      GATEWAY_API_TOKEN: API_TOKEN,
    };
    receiver.behave('/failing', { status: 500 });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rig.stop();
  });

  it('prints help for itself and every command', async () => {
    const main = await cli('--help');
    expect(main.code).toBe(0);
    for (const c of COMMANDS) expect(main.stdout).toContain(`  ${c.name.join(' ')}`);
    for (const c of COMMANDS) {
      const help = await cli(...c.name, '--help');
      expect({ command: c.name.join(' '), code: help.code }).toEqual({ command: c.name.join(' '), code: 0 });
      expect(help.stdout).toMatch(new RegExp(`^usage: webhook-gateway ${c.name.join(' ')}`));
      for (const option of Object.keys(c.help)) expect(help.stdout).toContain(option);
    }
    const wrong = await cli('results', 'tail', '--outcome', 'lost');
    expect(wrong).toMatchObject({ code: 2, stderr: expect.stringContaining('--outcome must be one of') });
    expect((await cli('nonsense')).code).toBe(2);
  });

  it('runs through npx after the build', () => {
    const out = execFileSync('npx', ['--no-install', 'webhook-gateway', 'lag', '--help'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(out).toMatch(/^usage: webhook-gateway lag/);
  });

  it('creates and lists subscriptions through the management API', async () => {
    const created = await cli('subscriptions', 'create', '--url', receiver.url('/ok'), '--events', 'order.*,invoice.paid', '--filter', 'data.region=eu-*,uk', '--filter', 'data.replayed={"exists":false}', '--description', 'from the CLI');
    expect(created.code).toBe(0);
    const [, id] = /^id\s+(sub_\S+)$/m.exec(created.stdout) ?? [];
    expect(created.stdout).toMatch(/^secret\s+whsec_\S+$/m);
    ids.ok = id!;
    const view = (await gateway.api('GET', `/v1/subscriptions/${ids.ok}`)).body;
    expect(view).toMatchObject({ url: receiver.url('/ok'), events: ['order.*', 'invoice.paid'], filters: { 'data.region': ['eu-*', 'uk'], 'data.replayed': { exists: false } }, description: 'from the CLI' });

    // Endpoint authentication and a transformation show as such, never their secrets.
    const failing = await gateway.api('POST', '/v1/subscriptions', {
      url: receiver.url('/failing'),
      events: ['order.*'],
      retry: { schedule: [] },
      auth: { type: 'basic', username: 'ops', password: 'cli-hidden-password' },
      transform: { expression: '{"id": data.id}' },
    });
    ids.failing = failing.body.id;

    const list = await cli('subscriptions', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+TENANT\s+EVENTS\s+AUTH\s+TRANSFORM\s+URL$/);
    expect(list.stdout).toMatch(new RegExp(`^${ids.ok}\\s+enabled\\s+-\\s+order\\.\\*,invoice\\.paid\\s+-\\s+-\\s+${receiver.url('/ok')}$`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${ids.failing}\\s+enabled\\s+-\\s+order\\.\\*\\s+basic\\s+jsonata:body\\s+${receiver.url('/failing')}$`, 'm'));
    const failingShown = await cli('subscriptions', 'show', ids.failing);
    expect(JSON.parse(failingShown.stdout)).toMatchObject({ auth: { type: 'basic', username: 'ops' }, transform: { expression: '{"id": data.id}', output: 'body' } });
    expect(list.stdout + failingShown.stdout).not.toContain('cli-hidden-password');
    expect(jsonLines<{ id: string }>((await cli('subscriptions', 'list', '--json')).stdout).map((s) => s.id)).toEqual([ids.ok, ids.failing]);
    const shown = await cli('subscriptions', 'show', ids.ok, '--json');
    expect(JSON.parse(shown.stdout)).toEqual(view);
    expect(await cli('subscriptions', 'show', 'sub_missing')).toMatchObject({ code: 1, stderr: expect.stringContaining('404') });
    expect((await cli('subscriptions', 'create', '--url', receiver.url('/x'))).code).toBe(2);
    const mixed = await cli('subscriptions', 'create', '--url', receiver.url('/x'), '--events', 'a', '--filter', 'data.n=1', '--filter', 'data.n={"gt":1}');
    expect(mixed).toMatchObject({ code: 2, stderr: expect.stringContaining('--filter data.n is given twice') });
    const badJson = await cli('subscriptions', 'create', '--url', receiver.url('/x'), '--events', 'a', '--filter', 'data.n={gt:1}');
    expect(badJson).toMatchObject({ code: 2, stderr: expect.stringContaining('operators must be a JSON object') });

    await publisher.publish(source, { id: 'o1', type: 'order.created', data: { region: 'eu-west' } });
    await publisher.publish(source, { id: 'o2', type: 'order.created', data: { region: 'us-east' } });
    await publisher.publish(source, { id: 'o3', type: 'order.cancelled', data: { region: 'uk' } });
    for (const e of ['o1', 'o3']) await finalResult(e, ids.ok);
    for (const e of ['o1', 'o2', 'o3']) await finalResult(e, ids.failing);
  });

  it('tails the results topic with filters, as JSON lines', async () => {
    const ok = await cli('results', 'tail', '--once', '--json', '--subscription', ids.ok);
    expect(ok.code).toBe(0);
    const okLines = jsonLines<AttemptResult>(ok.stdout);
    expect(okLines.map((r) => [r.eventId, r.outcome, r.statusCode]).sort()).toEqual([
      ['o1', 'delivered', 200],
      ['o3', 'delivered', 200],
    ]);
    const dead = jsonLines<AttemptResult>((await cli('results', 'tail', '--once', '--json', '--outcome', 'dead_lettered', '--event-type', 'order.c*')).stdout);
    expect(dead.map((r) => r.eventId).sort()).toEqual(['o1', 'o2', 'o3']);
    expect(dead.every((r) => r.subscriptionId === ids.failing && r.statusCode === 500)).toBe(true);
    const cancelled = jsonLines<AttemptResult>((await cli('results', 'tail', '--once', '--json', '--event-type', 'order.cancelled')).stdout);
    expect(cancelled.map((r) => r.subscriptionId).sort()).toEqual([ids.ok, ids.failing].sort());
  });

  it('follows the results topic until Ctrl-C, one line per attempt', async () => {
    const child = spawn(process.execPath, [BIN, 'results', 'tail', '--from-beginning', '--subscription', ids.ok], { cwd: ROOT, env });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const until = async (what: string, check: () => boolean) => {
      for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
      if (!check()) throw new Error(`no ${what}; stdout: ${stdout}; stderr: ${stderr}`);
    };
    await until('line for o1', () => / delivered +\S+ {2}order\.created o1 {2}#1 {2}200 /.test(stdout));
    await publisher.publish(source, { id: 'o4', type: 'invoice.paid', data: { region: 'uk' } });
    await until('line for o4', () => / delivered +\S+ {2}invoice\.paid o4 {2}#1 {2}200 /.test(stdout));
    expect(stdout).toContain(ids.ok);
    expect(stdout).not.toContain(ids.failing);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('shows a subscription’s recent attempts, newest first', async () => {
    await finalResult('o4', ids.ok);
    const all = await cli('attempts', ids.ok);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ delivered .* invoice\.paid o4 {2}#1 {2}200 /);
    const one = jsonLines<AttemptResult>((await cli('attempts', ids.failing, '--limit', '1', '--json')).stdout);
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ subscriptionId: ids.failing, outcome: 'dead_lettered', statusCode: 500 });
    expect(await cli('attempts', 'sub_missing')).toMatchObject({ code: 1, stderr: expect.stringContaining('404') });
  });

  it('replays dead letters, after a dry run', async () => {
    await rig.reader('dlq').waitFor<DeadLetter>(() => rig.reader('dlq').records.filter((r) => r.key === ids.failing).length === 3);
    const dry = await cli('dlq', 'replay', '--subscription', ids.failing, '--dry-run');
    expect(dry).toMatchObject({ code: 0, stdout: 'dry run: 3 dead letter(s) would be replayed\n' });
    const before = receiver.on('/failing').length;
    const done = await cli('dlq', 'replay', '--subscription', ids.failing, '--limit', '2', '--json');
    expect(JSON.parse(done.stdout)).toEqual({ dry_run: false, matched: 2, replayed: 2, already_replayed: 0 });
    await receiver.waitFor((rs) => rs.filter((r) => r.path === '/failing').length === before + 2, 30_000, 'the replayed attempts');
    expect((await cli('dlq', 'replay', '--since', 'yesterday')).code).toBe(2);
  });

  it('reports consumer lag of the gateway’s groups', async () => {
    // The producer commits a batch once its jobs are written: wait until it has committed all 4 events.
    const admin = testKafka().admin();
    await admin.connect();
    const committed = async () => (await admin.fetchOffsets({ groupId: config.source.groupId, topics: [source] }))[0]?.partitions[0]?.offset;
    for (let i = 0; i < 100 && (await committed()) !== '4'; i++) await new Promise((r) => setTimeout(r, 100));
    await admin.disconnect();
    const rows = jsonLines<{ group: string; topic: string; partition: number; committed: number | null; end: number; lag: number }>((await cli('lag', '--json')).stdout);
    const sourceRow = rows.find((r) => r.group === config.source.groupId && r.topic === source);
    expect(sourceRow).toEqual({ group: config.source.groupId, topic: source, partition: 0, committed: 4, end: 4, lag: 0 });
    expect(rows.some((r) => r.group === config.delivery.groupId && r.topic === rig.topics.deliveries)).toBe(true);
    const human = await cli('lag', '--group', config.source.groupId);
    expect(human.stdout).toMatch(/^GROUP\s+TOPIC\s+PARTITION\s+COMMITTED\s+END\s+LAG$/m);
    expect(human.stdout).toContain(`${config.source.groupId}: total lag 0`);
    expect((await cli('lag', '--group', 'no-such-group')).stderr).toContain('no-such-group: no committed offsets');
  });
});
