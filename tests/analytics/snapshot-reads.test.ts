// Snapshot reads wherever they appear in the stream: placed by the last commit the stream had passed
// (`__sequence`), a read equal to the key's current version makes no version, one that differs opens a
// version at its time, and no read reorders what the stream established. Each case is built in one
// full run, and incrementally one file per run in file order and in reverse order (late files).
import { describe, expect, it } from "vitest";
import type { Change } from "./helpers/fixtures";
import { SourceBucket, product, run, tempDir } from "./helpers/fixtures";
import type { Version } from "./helpers/snapshot-changes";
import { T, change, del, history, initialRead, read, versions } from "./helpers/snapshot-changes";

interface Case {
  name: string;
  files: Change[][];
  expected: Version[];
}

const cases: Case[] = [
  {
    name: "a read equal to the current version makes no version",
    files: [[change("c", 100, 50, 1, 1, "a")], [read(200, 3, 1, "a")]],
    expected: [{ id: 1, name: "a", from: 1, to: null, op: "c" }],
  },
  {
    name: "a read that differs closes the current version and opens one at the read's time",
    files: [[change("c", 100, 50, 1, 1, "a")], [read(200, 3, 1, "b")]],
    expected: [
      { id: 1, name: "a", from: 1, to: 3, op: "c" },
      { id: 1, name: "b", from: 3, to: null, op: "r" },
    ],
  },
  {
    // The update's own LSN (120) is below the read's commit (130), but its transaction committed after
    // commit 140: the read saw the row before it.
    name: "a read sorts after the changes committed by its commit and before later ones, whatever their LSN",
    files: [[change("c", 100, 50, 1, 1, "a"), change("u", 120, 140, 4, 1, "b")], [read(130, 3, 1, "a")]],
    expected: [
      { id: 1, name: "a", from: 1, to: 4, op: "c" },
      { id: 1, name: "b", from: 4, to: null, op: "u" },
    ],
  },
  {
    name: "a change of the transaction right after the read's commit comes after the read",
    files: [[change("c", 100, 50, 1, 1, "a")], [read(130, 3, 1, "a")], [change("u", 140, 130, 4, 1, "b")]],
    expected: [
      { id: 1, name: "a", from: 1, to: 4, op: "c" },
      { id: 1, name: "b", from: 4, to: null, op: "u" },
    ],
  },
  {
    name: "a read after a delete opens a new version",
    files: [[change("c", 100, 50, 1, 1, "a"), del(110, 100, 2, 1)], [read(200, 5, 1, "a2")]],
    expected: [
      { id: 1, name: "a", from: 1, to: 2, op: "c", deleted: true },
      { id: 1, name: "a2", from: 5, to: null, op: "r" },
    ],
  },
  {
    name: "a second snapshot that shows nothing new makes no version",
    files: [[change("c", 100, 50, 1, 1, "a")], [read(200, 3, 1, "b")], [read(300, 5, 1, "b")]],
    expected: [
      { id: 1, name: "a", from: 1, to: 3, op: "c" },
      { id: 1, name: "b", from: 3, to: null, op: "r" },
    ],
  },
  {
    name: "a re-delivered read is one read",
    files: [[change("c", 100, 50, 1, 1, "a")], [read(200, 3, 1, "b")], [read(200, 3, 1, "b")]],
    expected: [
      { id: 1, name: "a", from: 1, to: 3, op: "c" },
      { id: 1, name: "b", from: 3, to: null, op: "r" },
    ],
  },
  {
    name: "an initial snapshot's read comes before streaming, even a change with a lower LSN",
    files: [[initialRead(500, 1, 1, "a")], [change("u", 400, null, 2, 1, "b")]],
    expected: [
      { id: 1, name: "a", from: 1, to: 2, op: "r" },
      { id: 1, name: "b", from: 2, to: null, op: "u" },
    ],
  },
  {
    name: "keys are placed independently: a read of one key does not move another's history",
    files: [
      [change("c", 100, 50, 1, 1, "a"), change("c", 101, 50, 1, 2, "x")],
      [read(200, 3, 1, "a"), read(200, 3, 2, "y")],
      [change("u", 300, 250, 6, 2, "z")],
    ],
    expected: [
      { id: 1, name: "a", from: 1, to: null, op: "c" },
      { id: 2, name: "x", from: 1, to: 3, op: "c" },
      { id: 2, name: "y", from: 3, to: 6, op: "r" },
      { id: 2, name: "z", from: 6, to: null, op: "u" },
    ],
  },
];

async function sourceOf(files: Change[][]): Promise<SourceBucket> {
  const source = await SourceBucket.create();
  for (const [i, changes] of files.entries()) await source.parquet("commerce.products", 0, i * 10, changes);
  return source;
}

describe("snapshot reads in the stream", () => {
  it.each(cases)("$name (one full run)", async ({ files, expected }) => {
    const source = await sourceOf(files);
    const output = await tempDir("scd2-reads-");
    await run(source.root, output);
    expect(await history(output)).toEqual(versions(expected));
  });

  it.each(cases)("$name (a run per file, in order and in reverse)", async ({ files, expected }) => {
    for (const order of [files, [...files].reverse()]) {
      const source = await SourceBucket.create();
      const output = await tempDir("scd2-reads-inc-");
      for (const changes of order) {
        await source.parquet("commerce.products", 0, files.indexOf(changes) * 10, changes);
        await run(source.root, output);
      }
      expect(await history(output)).toEqual(versions(expected));
    }
  });
});

describe("reads the job cannot place", () => {
  it("an incremental read in a file without __sequence: the run fails naming the file and offset", async () => {
    const source = await SourceBucket.create();
    const line = (lsn: number | null, op: string, name: string) =>
      JSON.stringify({
        ...product(1, name),
        __op: op,
        __lsn: lsn,
        __txId: null,
        __source_ts_ms: T(3),
        __deleted: "false",
      });
    const key = await source.json("commerce.products", 0, 40, [line(100, "c", "a"), line(null, "r", "b")]);
    await expect(run(source.root, await tempDir("scd2-reads-bad-"))).rejects.toThrow(
      `commerce.products: ${key} has a row (offset 41) that is an incremental-snapshot read (__op "r", no __lsn) and the file has no __sequence: the job cannot place it in its key's history (the unwrap's add.fields must include sequence)`,
    );
  });

  it("an incremental read whose __sequence names no commit: the run fails naming the file and offset", async () => {
    const source = await SourceBucket.create();
    const unplaced = { ...read(200, 3, 1, "b"), sequence: JSON.stringify([null, null]) };
    const key = await source.parquet("commerce.products", 0, 7, [change("c", 100, 50, 1, 1, "a"), unplaced]);
    await expect(run(source.root, await tempDir("scd2-reads-bad-"))).rejects.toThrow(
      `commerce.products: ${key} has a row (offset 8) that is an incremental-snapshot read (__op "r", no __lsn) whose __sequence names no commit`,
    );
  });

  it("a __sequence that is not Debezium's: the run fails naming the file, offset and value", async () => {
    const source = await SourceBucket.create();
    const odd = { ...change("u", 120, 100, 2, 1, "b"), sequence: "[oops]" };
    const key = await source.parquet("commerce.products", 0, 0, [change("c", 100, 50, 1, 1, "a"), odd]);
    await expect(run(source.root, await tempDir("scd2-reads-bad-"))).rejects.toThrow(
      `commerce.products: ${key} has a row (offset 1) whose __sequence "[oops]" is not Debezium's ["<last commit LSN>","<LSN>"]`,
    );
  });
});
