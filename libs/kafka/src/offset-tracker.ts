/**
 * The offsets of one partition dispatched for concurrent work, and the next
 * offset that may be committed: the end of the contiguous completed prefix.
 * Offsets are added in increasing order (gaps allowed) and complete in any order.
 */
export class OffsetTracker {
  private readonly order: bigint[] = [];
  private readonly done = new Set<bigint>();
  private head = 0;
  private last?: bigint;
  /** Offsets added, ever, and completed-prefix entries dropped from `order`: see `counted`. */
  private added = 0;
  private dropped = 0;

  add(offset: bigint): void {
    if (this.last !== undefined && offset <= this.last) throw new Error(`offset ${offset} added after ${this.last}`);
    this.order.push(offset);
    this.last = offset;
    this.added++;
  }

  complete(offset: bigint): void {
    this.done.add(offset);
    while (this.head < this.order.length && this.done.has(this.order[this.head]!)) {
      this.done.delete(this.order[this.head]!);
      this.head++;
    }
    // Drop the completed prefix now and then, so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.dropped += this.head;
      this.head = 0;
    }
  }

  /** The last offset added. */
  get lastAdded(): bigint | undefined {
    return this.last;
  }

  /** Offsets added and not yet completed. */
  get pending(): number {
    return this.order.length - this.head - this.done.size;
  }

  /** Offsets added ever, and how many of them lie below `committable()`: a commit there leaves `added - below` uncommitted. */
  get counted(): { added: number; below: number } {
    return { added: this.added, below: this.dropped + this.head };
  }

  /** The offset to commit (the next one to consume): the first not completed, or the last + 1; undefined before any add. */
  committable(): bigint | undefined {
    if (this.head < this.order.length) return this.order[this.head];
    return this.last === undefined ? undefined : this.last + 1n;
  }
}
