/**
 * Source offset before slot acknowledgement: the slot must never confirm a position whose source
 * offset is not stored, or a restart (reading the offset) falls behind what PostgreSQL has let go.
 */
import { describe, expect, it } from "vitest";
import { DurabilityTracker, SourceCommitter } from "../../../connectors/local/progress";

/** A store whose writes stay pending until released, in order, like OffsetFile's serialized writes. */
function slowStore(): { store: (v: string) => Promise<void>; release: () => void; stored: string[] } {
  const pending: { value: string; resolve: () => void }[] = [];
  const stored: string[] = [];
  return {
    store: (value) => new Promise<void>((resolve) => pending.push({ value, resolve })),
    release: () => {
      const next = pending.shift()!;
      stored.push(next.value);
      next.resolve();
    },
    stored,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("SourceCommitter", () => {
  it("acknowledges the slot only once the source offset is stored", async () => {
    const { store, release, stored } = slowStore();
    const acks: bigint[] = [];
    const committer = new SourceCommitter(
      store,
      (lsn) => acks.push(lsn),
      (err) => {
        throw err;
      },
    );
    // The snapshot (transaction 0) became durable: its offset carries snapshot_completed.
    const tracker = new DurabilityTracker((tx) => committer.commit(tx.endLsn, `offset@${tx.endLsn}`));
    tracker.add(0, 100);
    tracker.commit({ seq: 0, endLsn: 100n, txId: 1 });
    tracker.durable(Array.from({ length: 100 }, () => 0));
    await tick();
    // A kill now: nothing stored, so nothing may be acknowledged.
    expect(stored).toEqual([]);
    expect(acks).toEqual([]);
    expect(committer.acknowledgedLsn()).toBeNull();
    release();
    await tick();
    expect(stored).toEqual(["offset@100"]);
    expect(acks).toEqual([100n]);
    expect(committer.acknowledgedLsn()).toBe(100n);
  });

  it("acknowledges in order, never past the last stored offset, and settles after the last", async () => {
    const { store, release } = slowStore();
    const acks: bigint[] = [];
    const committer = new SourceCommitter(
      store,
      (lsn) => acks.push(lsn),
      () => undefined,
    );
    committer.commit(200n, "a");
    committer.commit(300n, "b");
    let settled = false;
    void committer.settled().then(() => (settled = true));
    release();
    await tick();
    expect(acks).toEqual([200n]);
    expect(settled).toBe(false);
    release();
    await tick();
    expect(acks).toEqual([200n, 300n]);
    expect(settled).toBe(true);
  });

  it("does not acknowledge an offset whose write failed", async () => {
    const acks: bigint[] = [];
    const errors: string[] = [];
    const committer = new SourceCommitter(
      () => Promise.reject(new Error("disk full")),
      (lsn) => acks.push(lsn),
      (err) => errors.push(err.message),
    );
    committer.commit(400n, "c");
    await committer.settled();
    expect(acks).toEqual([]);
    expect(errors).toEqual(["disk full"]);
    expect(committer.acknowledgedLsn()).toBeNull();
  });
});
