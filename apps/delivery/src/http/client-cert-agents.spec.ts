import type { Agent } from 'undici';
import { ClientCertAgents } from './client-cert-agents.js';
import type { ClientTls } from './egress-connector.js';

describe('ClientCertAgents', () => {
  const made: { tls: ClientTls; closed: boolean }[] = [];
  const agents = () =>
    new ClientCertAgents(
      (tls) => {
        const record = { tls, closed: false };
        made.push(record);
        return { close: async () => void (record.closed = true) } as unknown as Agent;
      },
      2,
      1_000,
    );
  const tls = (n: number): ClientTls => ({ cert: `cert-${n}`, key: `key-${n}` });
  beforeEach(() => (made.length = 0));

  it('keeps one Agent per subscription while its material stays, and replaces (closing) it when the material changes', async () => {
    const a = agents();
    expect(a.get('s1', tls(1), 0)).toBe(a.get('s1', { ...tls(1) }, 1));
    expect(made).toHaveLength(1);
    a.get('s1', { ...tls(1), ca: 'ca' }, 2);
    expect(made.map((m) => m.closed)).toEqual([true, false]);
    await a.close();
    expect(made.map((m) => m.closed)).toEqual([true, true]);
  });

  it('closes the least recently used Agent past the bound, and the idle ones', async () => {
    const a = agents();
    a.get('s1', tls(1), 0);
    a.get('s2', tls(2), 10);
    a.get('s1', tls(1), 20);
    a.get('s3', tls(3), 30);
    expect(made.map((m) => [m.tls.cert, m.closed])).toEqual([['cert-1', false], ['cert-2', true], ['cert-3', false]]);
    a.sweep(1_025);
    expect(made.map((m) => m.closed)).toEqual([true, true, false]);
    expect(a.size).toBe(1);
    await a.close();
  });
});
