/**
 * Which source positions are durable. Records carry the sequence number of their transaction
 * (commit order); once every record of a committed transaction, and of all before it, is in a
 * durable file, the slot may be acknowledged up to that transaction's end LSN.
 */
export interface CommittedTx {
  seq: number;
  endLsn: bigint;
  txId: number | null;
}

export class DurabilityTracker {
  private readonly outstanding = new Map<number, number>();
  private readonly committed: CommittedTx[] = [];

  constructor(private readonly onDurable: (tx: CommittedTx) => void) {}

  add(seq: number, count = 1): void {
    this.outstanding.set(seq, (this.outstanding.get(seq) ?? 0) + count);
  }

  commit(tx: CommittedTx): void {
    this.committed.push(tx);
    this.advance();
  }

  durable(seqs: number[]): void {
    for (const seq of seqs) {
      const left = (this.outstanding.get(seq) ?? 0) - 1;
      if (left <= 0) this.outstanding.delete(seq);
      else this.outstanding.set(seq, left);
    }
    this.advance();
  }

  pending(): number {
    let total = 0;
    for (const n of this.outstanding.values()) total += n;
    return total;
  }

  private advance(): void {
    let last: CommittedTx | undefined;
    while (this.committed.length > 0 && !this.outstanding.has(this.committed[0]!.seq))
      last = this.committed.shift();
    if (last) this.onDurable(last);
  }
}

/**
 * Stores the source offset of each durable transaction, then acknowledges the slot up to it: the
 * slot never confirms a position the stored offset has not reached, as Debezium acknowledges only
 * in `commitOffset()`, once Kafka Connect has flushed the offsets. So a slot that has moved means
 * the offset (and with it `snapshot_completed`) is stored, and a restart does not snapshot again.
 */
export class SourceCommitter<T> {
  private acknowledged: bigint | null = null;
  private last: Promise<void> = Promise.resolve();

  constructor(
    /** Resolves once this value, or a later one, is durable; writes land in call order. */
    private readonly store: (value: T) => Promise<void>,
    private readonly acknowledge: (lsn: bigint) => void,
    private readonly fail: (err: Error) => void,
  ) {}

  commit(lsn: bigint, value: T): void {
    this.last = this.store(value).then(
      () => {
        if (this.acknowledged !== null && lsn <= this.acknowledged) return;
        this.acknowledged = lsn;
        this.acknowledge(lsn);
      },
      (err: Error) => this.fail(err),
    );
  }

  /** The last position acknowledged (its offset is stored), or null. */
  acknowledgedLsn(): bigint | null {
    return this.acknowledged;
  }

  /** Waits until every offset committed so far is stored and acknowledged (or failed). */
  settled(): Promise<void> {
    return this.last;
  }
}
