import { kafkajsConsumerGroup, type KafkajsConsumerGroup } from './kafkajs-internals.js';

/**
 * A hook kafkajs lacks: work to finish before a consumer rejoins its group.
 *
 * kafkajs 2.2.4 (the last release) rebalances eagerly and has no revoke callback: when another
 * member joins or leaves, the runner emits REBALANCING and at once sends JoinGroup, after which
 * every partition may belong to another member and this generation's offsets can no longer be
 * committed. A pipelined consumer then hands over attempts that are in flight or finished but not
 * yet committed, and the new owner makes them again: a rolling restart with two instances per
 * group counted 551 duplicate webhooks this way.
 *
 * The coordinator waits for every member's JoinGroup up to the rebalance timeout (60 s in
 * kafkajs), and it accepts offset commits of the current generation until then. So the gateway
 * holds the rejoin: `holdRejoin(memberId, work)` from a REBALANCING listener (emitted
 * synchronously just before the join) makes that member's next join wait for `work`, which
 * drains the attempts in flight and commits them. While it waits, the member heartbeats, so a
 * hold longer than the session timeout does not cost the membership.
 *
 * It wraps `ConsumerGroup.prototype.joinAndSync`, an internal of kafkajs (read through
 * kafkajs-internals.ts, which refuses any kafkajs but 2.2.4); `installRejoinHold` also fails
 * loudly if the internal is not where it was.
 */
const holds = new Map<string, Promise<void>>();
let installed = false;
/** How often a member waiting to rejoin heartbeats (the coordinator answers REBALANCE_IN_PROGRESS and keeps the session). */
const HOLD_HEARTBEAT_MS = 1_000;

/** Installs the hook (once); called at consumer start, so a kafkajs without the internal fails then rather than at the first rebalance. */
export function installRejoinHold(): void {
  if (installed) return;
  const ConsumerGroup = kafkajsConsumerGroup();
  const original = ConsumerGroup.prototype.joinAndSync;
  if (typeof original !== 'function' || typeof ConsumerGroup.prototype.heartbeat !== 'function') {
    throw new Error('kafkajs ConsumerGroup has no joinAndSync/heartbeat: the rejoin hold needs kafkajs 2.2.x');
  }
  ConsumerGroup.prototype.joinAndSync = async function joinAndSyncAfterHold(this: KafkajsConsumerGroup): Promise<void> {
    const hold = this.memberId ? holds.get(this.memberId) : undefined;
    if (hold) {
      holds.delete(this.memberId!);
      const keepAlive = setInterval(() => void this.heartbeat({ interval: 0 }).catch(() => undefined), HOLD_HEARTBEAT_MS);
      try {
        await hold.catch(() => undefined);
      } finally {
        clearInterval(keepAlive);
      }
    }
    return original.call(this);
  };
  installed = true;
}

/** The next join of the member `memberId` waits for `work` (which should not take longer than the rebalance timeout). */
export function holdRejoin(memberId: string, work: Promise<void>): void {
  if (!installed) throw new Error('holdRejoin: installRejoinHold() was not called');
  holds.set(memberId, work);
}

