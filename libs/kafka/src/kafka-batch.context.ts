import { BaseRpcContext } from '@nestjs/microservices';
import type { EachBatchPayload } from 'kafkajs';
import type { RecordWriter } from './kafka-producer.js';

/** What the runner of a batch gives its context, once, at construction. */
export interface KafkaBatchContextOptions {
  /** True once the server is closing. */
  isClosing: () => boolean;
  /** Pipelined mode: hands the work of the record at `offset` to its partition's tracker. */
  track?: (offset: string, work: Promise<void>) => void;
  /** Pipelined mode: whether the work this batch tracked is still this process's to finish. */
  holdsWork?: () => boolean;
  /** Transactional mode: the batch's transaction. */
  writer?: RecordWriter;
  /** When the batch was handed to the runner (`Date.now()`); the context's construction when absent. */
  readAt?: number;
}

/** False once the consumer is stopping or lost the batch's partition. */
export function isBatchActive(payload: EachBatchPayload, closing: boolean): boolean {
  return !closing && payload.isRunning() && !payload.isStale();
}

/**
 * What a batch handler gets besides the batch. Read-only to the handler: what it asks for
 * (`track`, `pauseUntil`) is read back by the runner of its batch once the handler resolved.
 */
export class KafkaBatchContext extends BaseRpcContext<[EachBatchPayload]> {
  readonly #options: KafkaBatchContextOptions;
  #pausedUntil?: number;
  #lastTracked?: string;

  /** When the batch was read: handed to the runner, which may run it later (transactional mode queues it for its partition's transaction). */
  readonly readAt: number;

  constructor(payload: EachBatchPayload, options: KafkaBatchContextOptions) {
    super([payload]);
    this.#options = options;
    this.readAt = options.readAt ?? Date.now();
  }

  get payload(): EachBatchPayload {
    return this.args[0];
  }

  /** Transactional mode: where the handler writes the batch's records (committed with the batch's offset). */
  get writer(): RecordWriter | undefined {
    return this.#options.writer;
  }

  /** When the handler asked for its partition to resume (`pauseUntil`). */
  get pausedUntil(): number | undefined {
    return this.#pausedUntil;
  }

  /** The last offset the handler tracked. */
  get lastTracked(): string | undefined {
    return this.#lastTracked;
  }

  /** False once the consumer is stopping or lost the partition: stop early, the offsets will not be committed. */
  isActive(): boolean {
    return this.#pausedUntil === undefined && isBatchActive(this.payload, this.#options.isClosing());
  }

  /** Pipelined mode: the record at `offset` is being worked on; its offset is committed once `work` settles. */
  track(offset: string, work: Promise<void>): void {
    const { track } = this.#options;
    if (!track) throw new Error('track() needs a pipelined KafkaBatchServer');
    track(offset, work);
    this.#lastTracked = offset;
  }

  /**
   * Pipelined mode: true while the work this batch tracked is still this process's to finish and
   * commit: not closing, the partition not handed over in a rejoin, nor read again after a rewind.
   * Once false, whoever reads the partition next does the work again.
   */
  holdsWork(): boolean {
    const { holdsWork } = this.#options;
    if (!holdsWork) throw new Error('holdsWork() needs a pipelined KafkaBatchServer');
    return holdsWork();
  }

  /** Stop here: this partition is paused until `atMs` and the records not yet tracked are read again then. */
  pauseUntil(atMs: number): void {
    this.#pausedUntil = atMs;
  }
}
