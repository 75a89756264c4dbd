// The window passes in buckets of keys (fast-pass.ts): the same table as in one bucket, for a stream
// with every case the passes handle (multi-change transactions, re-deliveries, placeholders, unchanged
// updates, deletes and re-creates), in a full build and in an incremental run with late changes, and
// with more buckets than keys (empty buckets).
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { windowBuckets, WINDOW_BYTES_PER_FACT } from "../../analytics/src/scd2/fast-pass";
import type { Change } from "./helpers/fixtures";
import { SourceBucket, at, product, readTable, run, tempDir } from "./helpers/fixtures";
import { PLACEHOLDER_TEXT } from "./helpers/placeholder";

const GiB = 2 ** 30;

describe("windowBuckets", () => {
  // WINDOW_BYTES_PER_FACT (80) bytes a fact: 1GiB holds 13,421,772 of them; DuckDB's "1GB" (10^9 bytes)
  // 12,500,000, so the benchmark's 10M-event build (10,336,301 changes) sorts in one window.
  it.each([
    { rows: 0, limit: GiB, buckets: 1 },
    { rows: 10_000_000, limit: GiB, buckets: 1 },
    { rows: 13_421_772, limit: GiB, buckets: 1 },
    { rows: 13_421_773, limit: GiB, buckets: 2 },
    { rows: 10_336_301, limit: 1e9, buckets: 1 },
    { rows: 12_500_001, limit: 1e9, buckets: 2 },
    { rows: 100_000_000, limit: GiB, buckets: 8 },
    { rows: 103_000_000, limit: 1e9, buckets: 9 },
    { rows: 10_000_000, limit: GiB / 2, buckets: 2 },
    { rows: 10_000_000, limit: GiB / 4, buckets: 3 },
  ])("$rows facts under $limit bytes: $buckets", ({ rows, limit, buckets }) => {
    expect(windowBuckets(rows, limit)).toBe(buckets);
  });

  it("takes a fact to need 80 bytes (the table above is in those terms)", () => {
    expect(WINDOW_BYTES_PER_FACT).toBe(80);
  });
});

/** A deterministic pseudo-random stream (a linear congruential generator: the same every run). */
function stream(keys: number, transactions: number, firstLsn: number, seed: number): Change[] {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const live = new Map<number, string>();
  const out: Change[] = [];
  let lsn = firstLsn;
  for (let tx = 0; tx < transactions; tx += 1) {
    const ts = at("2024-03-01T00:00:00Z") + (firstLsn + tx) * 1000;
    for (let i = 0, n = 1 + next(3); i < n; i += 1) {
      const id = 1 + next(keys);
      const change = (op: Change["op"], row: Change["row"]) =>
        out.push({ op, lsn: (lsn += 10), tx: firstLsn + tx, ts, row });
      const name = live.get(id);
      const roll = next(10);
      if (name === undefined) {
        live.set(id, `n${lsn}`);
        change("c", { ...product(id, `n${lsn}`), description: `text ${lsn}` });
      } else if (roll < 4) {
        live.set(id, `n${lsn}`);
        change("u", { ...product(id, `n${lsn}`), description: `text ${lsn}` });
      } else if (roll < 6) {
        // The text did not change: Debezium sends the placeholder.
        live.set(id, `n${lsn}`);
        change("u", { ...product(id, `n${lsn}`), description: PLACEHOLDER_TEXT });
      } else if (roll < 8) {
        // Nothing visible changed (its key takes the exact path); the text is the placeholder again.
        change("u", { ...product(id, name), description: PLACEHOLDER_TEXT });
      } else {
        live.delete(id);
        change("d", product(id, name));
      }
    }
  }
  return out;
}

/** Writes `changes` in files of 100, then every seventh change again at later offsets (re-deliveries). */
async function writeChanges(source: SourceBucket, changes: Change[], firstOffset: number): Promise<number> {
  const redelivered = changes.filter((_, i) => i % 7 === 3);
  const all = [...changes, ...redelivered];
  for (let i = 0; i < all.length; i += 100)
    await source.parquet("commerce.products", 0, firstOffset + i, all.slice(i, i + 100));
  return firstOffset + all.length;
}

describe("the window passes in buckets of keys", () => {
  it("give the same table as one bucket, in a full build and an incremental run with late changes", async () => {
    const source = await SourceBucket.create();
    const first = stream(300, 800, 1000, 7);
    const offset = await writeChanges(source, first, 0);
    const one = await tempDir("scd2-one-bucket-");
    const four = await tempDir("scd2-four-buckets-");
    // Each ordering step, with the bucket folders still on disk when it starts: a sorted bucket's files
    // are gone before the next bucket is sorted (the run's local disk holds one copy of the facts).
    const workDir = await tempDir("scd2-bucket-work-");
    let steps: string[] = [];
    const ordering = (event: { type: string; step?: string }) => {
      if (event.type !== "step" || !event.step!.startsWith("ordering")) return;
      const [runDir] = readdirSync(workDir).filter((name) => name.startsWith("run-"));
      const facts = path.join(workDir, runDir!, "facts-products");
      steps.push(`${event.step!}: ${readdirSync(facts).sort().join(" ")}`);
    };
    const whole = await run(source.root, one, { fullRefresh: true, keyBuckets: 1 });
    const bucketed = await run(source.root, four, {
      fullRefresh: true,
      keyBuckets: 4,
      onProgress: ordering,
      workDir,
    });
    const sortedInFour = [
      "ordering changes (1/4): _bucket=0 _bucket=1 _bucket=2 _bucket=3",
      "ordering changes (2/4): _bucket=1 _bucket=2 _bucket=3",
      "ordering changes (3/4): _bucket=2 _bucket=3",
      "ordering changes (4/4): _bucket=3",
    ];
    expect(steps).toEqual(sortedInFour);
    expect(bucketed.tables[0]).toEqual({ ...whole.tables[0], durationMs: bucketed.tables[0]!.durationMs });
    const table = await readTable(four, "products", "id, effective_from");
    expect(table).toEqual(await readTable(one, "products", "id, effective_from"));
    // Every case occurred: closed and current versions, deletes, resolved placeholders.
    expect(table.filter((r) => r.is_deleted).length).toBeGreaterThan(50);
    expect(table.filter((r) => r.is_current).length).toBeGreaterThan(50);
    expect(table.filter((r) => r.description === PLACEHOLDER_TEXT)).toEqual([]);

    // New changes, and late ones: their LSNs fall inside the history already applied.
    const later = stream(300, 200, 9000, 11);
    const late = stream(300, 30, 2000, 13).map((c) => ({ ...c, lsn: c.lsn! + 5 }));
    await writeChanges(source, [...later, ...late], offset);
    const wholeNext = await run(source.root, one, { keyBuckets: 1 });
    steps = [];
    const bucketedNext = await run(source.root, four, { keyBuckets: 4, onProgress: ordering, workDir });
    expect(steps).toEqual(sortedInFour);
    expect(bucketedNext.tables[0]).toEqual({
      ...wholeNext.tables[0],
      durationMs: bucketedNext.tables[0]!.durationMs,
    });
    expect(await readTable(four, "products", "id, effective_from")).toEqual(
      await readTable(one, "products", "id, effective_from"),
    );
  });

  it("gives the same table with more buckets than keys (most buckets empty)", async () => {
    const source = await SourceBucket.create();
    await writeChanges(source, stream(3, 40, 1000, 5), 0);
    const one = await tempDir("scd2-one-bucket-");
    const many = await tempDir("scd2-many-buckets-");
    await run(source.root, one, { fullRefresh: true, keyBuckets: 1 });
    const steps: string[] = [];
    await run(source.root, many, {
      fullRefresh: true,
      keyBuckets: 16,
      onProgress: (event) =>
        event.type === "step" && event.step.startsWith("ordering") && steps.push(event.step),
    });
    // Three keys fill at most three of the sixteen buckets; only those are sorted.
    const n = steps.length;
    expect(n).toBeLessThanOrEqual(3);
    expect(steps).toEqual(
      n === 1
        ? ["ordering changes"]
        : Array.from({ length: n }, (_, i) => `ordering changes (${i + 1}/${n})`),
    );
    expect(await readTable(many, "products", "id, effective_from")).toEqual(
      await readTable(one, "products", "id, effective_from"),
    );
  });

  it("refuses a bucket count that is not a positive integer, before it touches the output", async () => {
    const output = await tempDir("scd2-bad-buckets-");
    await expect(run(await tempDir("scd2-source-"), output, { keyBuckets: 0 })).rejects.toThrow(
      "keyBuckets must be a positive integer, got 0",
    );
    await expect(run(await tempDir("scd2-source-"), output, { keyBuckets: 1.5 })).rejects.toThrow(
      "keyBuckets must be a positive integer, got 1.5",
    );
  });
});
