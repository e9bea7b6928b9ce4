import type { Agent } from 'undici';
import type { ClientTls } from './egress-connector.js';

interface Entry {
  tls: ClientTls;
  agent: Agent;
  lastUsed: number;
}

/**
 * The dispatchers of subscriptions with a client certificate. undici pools connections per
 * origin, and a connection made with one subscription's certificate must not carry another's
 * webhooks, so each such subscription gets an Agent of its own, kept by subscription id for its
 * current material (certificate, key, CAs). An Agent is closed (its requests in flight finish
 * first) when its subscription's material changes, when it has not been used for `idleMs`, and
 * when more than `max` subscriptions have one (least recently used first).
 */
export class ClientCertAgents {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly create: (tls: ClientTls) => Agent,
    private readonly max: number,
    private readonly idleMs: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(1_000, Math.floor(idleMs / 2)));
    this.sweeper.unref();
  }

  /** The Agent for this subscription's material, made or replaced as needed. */
  get(subscriptionId: string, tls: ClientTls, now = Date.now()): Agent {
    const entry = this.entries.get(subscriptionId);
    if (entry !== undefined) {
      this.entries.delete(subscriptionId);
      if (sameMaterial(entry.tls, tls)) {
        entry.lastUsed = now;
        this.entries.set(subscriptionId, entry);
        return entry.agent;
      }
      void entry.agent.close();
    }
    while (this.entries.size >= this.max) this.evict(this.entries.keys().next().value!);
    const agent = this.create(tls);
    this.entries.set(subscriptionId, { tls, agent, lastUsed: now });
    return agent;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Closes the Agents not used for `idleMs`. */
  sweep(now: number): void {
    for (const [id, entry] of this.entries) if (now - entry.lastUsed >= this.idleMs) this.evict(id);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const agents = [...this.entries.values()].map((e) => e.agent);
    this.entries.clear();
    await Promise.all(agents.map((a) => a.close()));
  }

  private evict(id: string): void {
    const entry = this.entries.get(id);
    this.entries.delete(id);
    void entry?.agent.close();
  }
}

const sameMaterial = (a: ClientTls, b: ClientTls): boolean => a === b || (a.cert === b.cert && a.key === b.key && a.ca === b.ca);
