// Reconciliation after a gap: given the WAL window of a complete snapshot, keys current in the history
// with no record in the window are closed as deleted (is_deleted_inferred) at the window's first read;
// keys read, changed or inserted in it are not; without a window nothing is inferred. The same table in
// one full run, in incremental runs (the window given after its files were processed), after a full
// refresh (the state keeps the window), and when the same window is given again.
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { ReconcileWindow } from "../../analytics/src/scd2/reconcile";
import { SourceBucket, run, tempDir } from "./helpers/fixtures";
import type { Version } from "./helpers/snapshot-changes";
import { change, del, history, read, versions } from "./helpers/snapshot-changes";

const WINDOW: ReconcileWindow = { table: "commerce.products", from: 1000n, to: 2000n };

/** Before the gap, in the window (the snapshot and changes during it), after it. */
const FILES = [
  [
    change("c", 100, 50, 1, 1, "a"),
    change("c", 101, 50, 1, 2, "b"),
    change("c", 102, 50, 1, 3, "c"),
    change("c", 103, 50, 1, 4, "d"),
    del(130, 120, 2, 4),
    change("c", 104, 50, 1, 5, "e"),
    change("c", 105, 50, 1, 6, "f"),
  ],
  [
    read(1500, 10, 1, "a"), // unchanged: no version
    read(1500, 11, 3, "c2"), // changed in the gap: a version at the read
    change("u", 1600, 1550, 12, 5, "e2"), // changed during the snapshot: its chunk had no read of it
    change("c", 1700, 1650, 13, 7, "g"), // inserted after its chunk was read
  ],
  [change("c", 2600, 2500, 20, 6, "f2")], // deleted in the gap, inserted again after the snapshot
];

const RECONCILED: Version[] = [
  { id: 1, name: "a", from: 1, to: null, op: "c" },
  { id: 2, name: "b", from: 1, to: 10, op: "c", deleted: true, inferred: true },
  { id: 3, name: "c", from: 1, to: 11, op: "c" },
  { id: 3, name: "c2", from: 11, to: null, op: "r" },
  { id: 4, name: "d", from: 1, to: 2, op: "c", deleted: true },
  { id: 5, name: "e", from: 1, to: 12, op: "c" },
  { id: 5, name: "e2", from: 12, to: null, op: "u" },
  { id: 6, name: "f", from: 1, to: 10, op: "c", deleted: true, inferred: true },
  { id: 6, name: "f2", from: 20, to: null, op: "c" },
  { id: 7, name: "g", from: 13, to: null, op: "c" },
];

async function source(files = FILES): Promise<SourceBucket> {
  const bucket = await SourceBucket.create();
  for (const [i, changes] of files.entries()) await bucket.parquet("commerce.products", 0, i * 10, changes);
  return bucket;
}

const inferredOf = (summary: { tables: { inferredDeletes?: number }[] }) =>
  summary.tables[0]!.inferredDeletes;

describe("reconciliation", () => {
  it("without a window, no delete is inferred", async () => {
    const output = await tempDir("scd2-rec-");
    const summary = await run((await source()).root, output);
    expect(inferredOf(summary)).toBeUndefined();
    expect(await history(output)).toEqual(
      versions([
        ...RECONCILED.filter((v) => v.id !== 2 && v.id !== 6),
        { id: 2, name: "b", from: 1, to: null, op: "c" },
        { id: 6, name: "f", from: 1, to: 20, op: "c" },
        { id: 6, name: "f2", from: 20, to: null, op: "c" },
      ]).sort((a, b) => a.id - b.id || a.effective_from.localeCompare(b.effective_from)),
    );
  });

  it("closes the keys absent from the window, in one full run", async () => {
    const output = await tempDir("scd2-rec-");
    const summary = await run((await source()).root, output, { reconcile: [WINDOW] });
    expect(inferredOf(summary)).toBe(2);
    expect(await history(output)).toEqual(versions(RECONCILED));
  });

  it("gives the same table when the window comes after its files were processed, keeps it through a full refresh, and applies it once", async () => {
    const bucket = await SourceBucket.create();
    const output = await tempDir("scd2-rec-inc-");
    for (const [i, changes] of FILES.entries()) {
      await bucket.parquet("commerce.products", 0, i * 10, changes);
      await run(bucket.root, output);
    }
    // Key 6 has a change after the window already applied: its history is recomputed.
    expect(inferredOf(await run(bucket.root, output, { reconcile: [WINDOW] }))).toBe(2);
    expect(await history(output)).toEqual(versions(RECONCILED));
    const manifest = JSON.parse(await readFile(path.join(output, "_state", "manifest.json"), "utf8")) as {
      tables: Record<string, { reconciled?: unknown }>;
    };
    expect(manifest.tables["commerce.products"]!.reconciled).toEqual([{ from: "1000", to: "2000" }]);

    expect(inferredOf(await run(bucket.root, output, { reconcile: [WINDOW] }))).toBe(0);
    expect(await history(output)).toEqual(versions(RECONCILED));
    expect(inferredOf(await run(bucket.root, output, { fullRefresh: true }))).toBe(2);
    expect(await history(output)).toEqual(versions(RECONCILED));
  });

  it("a late change of a key closed by an earlier reconciliation keeps the inferred delete", async () => {
    const bucket = await source(FILES.slice(0, 2));
    const output = await tempDir("scd2-rec-late-");
    await run(bucket.root, output, { reconcile: [WINDOW] });
    // A late file (lower Kafka offset than the window's) with a change of key 2 before the gap.
    await bucket.parquet("commerce.products", 1, 0, [change("u", 106, 60, 2, 2, "b1")]);
    await bucket.parquet("commerce.products", 0, 20, FILES[2]!);
    await run(bucket.root, output);
    expect(await history(output)).toEqual(
      versions([
        ...RECONCILED.filter((v) => v.id !== 2),
        { id: 2, name: "b", from: 1, to: 2, op: "c" },
        { id: 2, name: "b1", from: 2, to: 10, op: "u", deleted: true, inferred: true },
      ]).sort((a, b) => a.id - b.id || a.effective_from.localeCompare(b.effective_from)),
    );
  });

  it("refuses a window without any snapshot read, writing nothing", async () => {
    const output = await tempDir("scd2-rec-bad-");
    const empty = { ...WINDOW, from: 3000n, to: 4000n };
    await expect(run((await source()).root, output, { reconcile: [empty] })).rejects.toThrow(
      "commerce.products: no snapshot read between requestedAt and doneAt (positions 3000..4000) in its change files",
    );
    await expect(readFile(path.join(output, "_state", "manifest.json"))).rejects.toThrow(/ENOENT/);
  });
});
