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
