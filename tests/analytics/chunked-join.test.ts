// The join back to the values in pieces (join-chunks.ts), forced by a low memory limit: the placeholder
// values it holds (4,000 of 20 KB) do not fit a quarter of 256MB, so it runs in two pieces: runs of change
// files in a full build, ranges of the input's rows in an incremental run.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { Change } from "./helpers/fixtures";
import { SourceBucket, product, readTable, run, tempDir, u } from "./helpers/fixtures";
import { PLACEHOLDER_TEXT } from "./helpers/placeholder";

const KEYS = 4000;
const text = (id: number) => `${id}:${"x".repeat(20_000)}`;

/** Every key: a create with a large text, then updates that leave it unchanged (TOAST placeholders). */
function changes(): Change[] {
  const out: Change[] = [];
  for (let id = 1; id <= KEYS; id += 1) {
    out.push({ ...u(id * 10, 1, { ...product(id, "a"), description: text(id) }), op: "c" });
    out.push(u(id * 10 + 1, 2, { ...product(id, "b"), description: PLACEHOLDER_TEXT }));
    if (id % 2 === 1) out.push(u(id * 10 + 2, 3, { ...product(id, "c"), description: PLACEHOLDER_TEXT }));
  }
  return out;
}

const historyFiles = async (output: string) =>
  (await fs.readdir(path.join(output, "products", "history"))).sort();

describe("the join back to the values, in chunks", () => {
  it("under a low memory limit runs in pieces of files and gives the same table as in one piece", async () => {
    const source = await SourceBucket.create();
    // Files of 1,000 records, as the sink writes them (one file of 10,000 would be one 80 MB row group).
    const all = changes();
    for (let offset = 0; offset < all.length; offset += 1000)
      await source.parquet("commerce.products", 0, offset, all.slice(offset, offset + 1000));
    const chunked = await tempDir("scd2-chunked-");
    const whole = await tempDir("scd2-whole-");
    const low = await run(source.root, chunked, { memoryLimit: "256MB", fullRefresh: true });
    const high = await run(source.root, whole, { memoryLimit: "1GB", fullRefresh: true });

    expect(await historyFiles(chunked)).toEqual([
      expect.stringMatching(/-0\.parquet$/),
      expect.stringMatching(/-1\.parquet$/),
    ]);
    expect(await historyFiles(whole)).toEqual([expect.not.stringMatching(/-\d\.parquet$/)]);
    expect(low.tables[0]).toMatchObject({ versions: 10000, current: KEYS, deleted: 0 });
    expect(high.tables[0]).toMatchObject({ versions: 10000, current: KEYS, deleted: 0 });

    const table = await readTable(chunked, "products", "id, effective_from");
    expect(table).toEqual(await readTable(whole, "products", "id, effective_from"));
    // Every placeholder resolved to the key's text, in closed and current versions alike.
    expect(table.filter((r) => r.description !== text(Number(r.id)))).toEqual([]);
    expect(table.filter((r) => r.is_current).map((r) => r.name)).toEqual(
      Array.from({ length: KEYS }, (_, i) => (i % 2 === 0 ? "c" : "b")),
    );

    // Window passes in buckets of keys leave the facts in row order within each bucket: each piece
    // reads only its own, and the join runs in twice as many pieces (ROW_ORDERED_SPLIT).
    const bucketed = await tempDir("scd2-chunked-buckets-");
    const inBuckets = await run(source.root, bucketed, {
      memoryLimit: "256MB",
      fullRefresh: true,
      keyBuckets: 2,
    });
    expect(await historyFiles(bucketed)).toEqual(
      [0, 1, 2, 3].map((piece) => expect.stringMatching(new RegExp(`-${piece}\\.parquet$`))),
    );
    expect(inBuckets.tables[0]).toMatchObject({ versions: 10000, current: KEYS, deleted: 0 });
    expect(await readTable(bucketed, "products", "id, effective_from")).toEqual(table);
  });

  it("keys whose updates change nothing (the exact path, on whole rows) are built in buckets under a low limit", async () => {
    const source = await SourceBucket.create();
    // Each key: a create, then an update that changes nothing visible (the text is the placeholder).
    // In one bucket, the exact path ran out of memory under 256MB.
    const all = Array.from({ length: KEYS }, (_, i) => [
      { ...u(i * 10 + 10, 1, { ...product(i + 1, "a"), description: text(i + 1) }), op: "c" as const },
      u(i * 10 + 11, 2, { ...product(i + 1, "a"), description: PLACEHOLDER_TEXT }),
    ]).flat();
    for (let offset = 0; offset < all.length; offset += 1000)
      await source.parquet("commerce.products", 0, offset, all.slice(offset, offset + 1000));
    const chunked = await tempDir("scd2-chunked-");
    const whole = await tempDir("scd2-whole-");
    const steps: string[] = [];
    const low = await run(source.root, chunked, {
      memoryLimit: "256MB",
      fullRefresh: true,
      onProgress: (event) => event.type === "step" && steps.push(event.step),
    });
    const high = await run(source.root, whole, { memoryLimit: "1GB", fullRefresh: true });

    const buckets = steps.filter((step) =>
      step.startsWith("building versions of keys with unchanged updates"),
    );
    expect(buckets.length).toBeGreaterThan(1);
    expect(buckets).toEqual(
      buckets.map((_, i) => `building versions of keys with unchanged updates (${i + 1}/${buckets.length})`),
    );
    // Every version is on the exact path: the join back's pieces have no facts to join.
    expect(steps).toContain("writing closed versions (2/2)");
    expect(low.tables[0]).toMatchObject({ versions: KEYS, current: KEYS, deleted: 0 });
    expect(high.tables[0]).toMatchObject({ versions: KEYS, current: KEYS, deleted: 0 });
    const table = await readTable(chunked, "products", "id, effective_from");
    expect(table).toEqual(await readTable(whole, "products", "id, effective_from"));
    expect(table.map((r) => [r.name, r.description, r.is_current])).toEqual(
      Array.from({ length: KEYS }, (_, i) => ["a", text(i + 1), true]),
    );
  });

  it("an incremental run under a low memory limit runs in pieces of rows and gives the same table", async () => {
    const source = await SourceBucket.create();
    const creates = Array.from({ length: KEYS }, (_, i) => ({
      ...u(i * 10 + 10, 1, { ...product(i + 1, "a"), description: text(i + 1) }),
      op: "c" as const,
    }));
    for (let offset = 0; offset < KEYS; offset += 1000)
      await source.parquet("commerce.products", 0, offset, creates.slice(offset, offset + 1000));
    const chunked = await tempDir("scd2-chunked-");
    const whole = await tempDir("scd2-whole-");
    await run(source.root, chunked, { fullRefresh: true });
    await run(source.root, whole, { fullRefresh: true });
    // Only creates: no version is closed yet.
    await expect(historyFiles(chunked)).rejects.toThrow(/ENOENT/);
    // Every key: an update that leaves the text unchanged (a placeholder pointing to the current version).
    const updates = Array.from({ length: KEYS }, (_, i) =>
      u(i * 10 + 100_000, 2, { ...product(i + 1, "b"), description: PLACEHOLDER_TEXT }),
    );
    for (let offset = 0; offset < KEYS; offset += 1000)
      await source.parquet("commerce.products", 0, KEYS + offset, updates.slice(offset, offset + 1000));
    const steps: string[] = [];
    const low = await run(source.root, chunked, {
      memoryLimit: "256MB",
      onProgress: (event) => event.type === "step" && steps.push(event.step),
    });
    const high = await run(source.root, whole, { memoryLimit: "1GB" });

    expect(steps.filter((step) => step.startsWith("writing"))).toEqual([
      "writing closed versions (1/2)",
      "writing closed versions (2/2)",
      "writing current versions",
      "writing state",
    ]);
    // The closed versions are the prior rows, all in the second half of the input's rows.
    expect(await historyFiles(chunked)).toEqual([expect.stringMatching(/-1\.parquet$/)]);
    expect(low.tables[0]).toMatchObject({ events: KEYS, versions: 2 * KEYS, current: KEYS });
    expect(high.tables[0]).toMatchObject({ events: KEYS, versions: 2 * KEYS, current: KEYS });
    const table = await readTable(chunked, "products", "id, effective_from");
    expect(table).toEqual(await readTable(whole, "products", "id, effective_from"));
    expect(table.filter((r) => r.description !== text(Number(r.id)))).toEqual([]);
    expect(table.filter((r) => r.is_current).map((r) => r.name)).toEqual(
      Array.from({ length: KEYS }, () => "b"),
    );
  });
});
