import * as fs from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { COMPACT_AT } from "../../analytics/src/scd2/compact";
import { MANIFEST_KEY } from "../../analytics/src/state/manifest";
import { SourceBucket, product, query, readTable, run, tempDir, u } from "./helpers/fixtures";
import { changeStream, random } from "./helpers/stream";
import type { SinkFile } from "./helpers/stream";
import { VIEWS_KEY } from "../../analytics/src/views";

const TABLE = "commerce.products";
const ALL = "ALL";

async function writeFiles(source: SourceBucket, files: readonly SinkFile[]) {
  for (const f of files) await source.parquet(TABLE, f.partition, f.offset, f.changes);
}

async function fullRefresh(files: readonly SinkFile[]) {
  const source = await SourceBucket.create();
  await writeFiles(source, files);
  const output = await tempDir("scd2-full-");
  await run(source.root, output, { fullRefresh: true });
  return readTable(output, "products", ALL);
}

const keyFilesOf = async (output: string): Promise<string[]> =>
  JSON.parse(await fs.readFile(path.join(output, MANIFEST_KEY), "utf8")).tables[TABLE].keys;

/** Each key's state in the newest of the key state `files` that holds it. */
function keyState(output: string, files: readonly string[]) {
  const union = files
    .map((f, gen) => `SELECT *, ${gen} AS gen FROM read_parquet('${path.join(output, f)}')`)
    .join(" UNION ALL ");
  return query(
    `SELECT * EXCLUDE (gen) FROM (${union}) QUALIFY row_number() OVER (PARTITION BY id ORDER BY gen DESC) = 1 ORDER BY id`,
  );
}

function shuffle<T>(items: readonly T[], rnd: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

describe("incremental runs", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`any split of the files across runs, in any order, gives the full refresh's table (seed ${seed})`, async () => {
      const files = changeStream(seed, 10, 30);
      const expected = await fullRefresh(files);
      expect(expected.length).toBeGreaterThan(10);
      const rnd = random(seed * 7919);
      const order = shuffle(files, rnd);
      const source = await SourceBucket.create();
      const output = await tempDir("scd2-inc-");
      for (let i = 0; i < order.length;) {
        const batch = order.slice(i, i + 1 + Math.floor(rnd() * 8));
        i += batch.length;
        await writeFiles(source, batch);
        await run(source.root, output);
      }
      expect(await readTable(output, "products", ALL)).toEqual(expected);
    });
  }

  for (const seed of [5, 6]) {
    it(`small runs over many keys add key state updates, merged in time, and give the full refresh's table (seed ${seed})`, async () => {
      const files = changeStream(seed, 200, 60);
      const expected = await fullRefresh(files);
      const rnd = random(seed * 104729);
      const order = shuffle(files, rnd);
      const source = await SourceBucket.create();
      const output = await tempDir("scd2-inc-");
      const keyFiles: number[] = [];
      // One large run, then small ones (out of order: late changes too), then the rest.
      const batches = [order.slice(0, 40)];
      for (let i = 40; i < order.length && batches.length < 16;) {
        const size = 1 + Math.floor(rnd() * 3);
        batches.push(order.slice(i, i + size));
        i += size;
      }
      batches.push(order.slice(batches.flat().length));
      const refreshed = await tempDir("scd2-full-");
      for (const batch of batches) {
        await writeFiles(source, batch);
        await run(source.root, output);
        const keys = await keyFilesOf(output);
        keyFiles.push(keys.length);
        // Each key's newest state across the files is the state a full refresh of the same files has.
        await run(source.root, refreshed, { fullRefresh: true });
        expect(await keyState(output, keys)).toEqual(await keyState(refreshed, await keyFilesOf(refreshed)));
      }
      // Updates were added (a list longer than one) and merged again (a list that got shorter).
      expect(Math.max(...keyFiles)).toBeGreaterThan(2);
      expect(keyFiles.some((n, i) => i > 0 && n < keyFiles[i - 1]!)).toBe(true);
      expect(await readTable(output, "products", ALL)).toEqual(expected);
    });
  }

  it("processes only new files and leaves closed history files alone when changes move forward", async () => {
    const source = await SourceBucket.create();
    const output = await tempDir("scd2-inc-");
    await source.parquet(TABLE, 0, 0, [
      u(100, 1, product(1, "a")),
      u(110, 2, product(1, "b")),
      u(120, 2, product(2, "x")),
    ]);
    const first = await run(source.root, output);
    const before = JSON.parse((await fs.readFile(path.join(output, MANIFEST_KEY), "utf8")) as string);
    await source.parquet(TABLE, 0, 3, [u(200, 5, product(1, "c"))]);
    const steps: string[] = [];
    const second = await run(source.root, output, {
      onProgress: (event) => event.type === "step" && steps.push(event.step),
    });
    expect(steps).toEqual([
      "comparing with the stored state",
      "ordering changes",
      "writing closed versions",
      "writing current versions",
      "writing state",
    ]);
    const after = JSON.parse(await fs.readFile(path.join(output, MANIFEST_KEY), "utf8"));
    expect(first.tables[0]).toMatchObject({ files: 1, events: 3, versions: 3, current: 2, deleted: 0 });
    expect(second.tables[0]).toMatchObject({ files: 1, events: 1, versions: 4, current: 2, deleted: 0 });
    const history = after.tables[TABLE].history.map((f: { key: string }) => f.key);
    expect(history).toHaveLength(2);
    expect(history[0]).toBe(before.tables[TABLE].history[0].key);
    const third = await run(source.root, output);
    expect(third.tables[0]).toMatchObject({ files: 0, events: 0, versions: 4 });
    expect(JSON.parse(await fs.readFile(path.join(output, MANIFEST_KEY), "utf8"))).toEqual(after);
  });

  it("a later run's re-delivery of applied changes changes nothing", async () => {
    const source = await SourceBucket.create();
    const output = await tempDir("scd2-inc-");
    const changes = [u(100, 1, product(1, "a")), u(110, 2, product(1, "b"))];
    await source.parquet(TABLE, 0, 0, changes);
    await run(source.root, output);
    const table = await readTable(output, "products", ALL);
    await source.parquet(TABLE, 0, 2, changes);
    const second = await run(source.root, output);
    expect(second.tables[0]).toMatchObject({ files: 1, events: 2, versions: 2 });
    expect(await readTable(output, "products", ALL)).toEqual(table);
  });

  it("a late file with older changes recomputes the key's history", async () => {
    const source = await SourceBucket.create();
    const output = await tempDir("scd2-inc-");
    await source.parquet(TABLE, 0, 2, [u(300, 3, product(1, "c")), u(310, 3, product(2, "z"))]);
    await run(source.root, output);
    await source.parquet(TABLE, 0, 0, [u(100, 1, product(1, "a")), u(200, 2, product(1, "b"))]);
    await run(source.root, output);
    const rows = await query(
      `SELECT id, name, effective_to IS NULL AS open FROM read_parquet('${output}/products/**/*.parquet') ORDER BY id, effective_from`,
    );
    expect(rows).toEqual([
      { id: 1, name: "a", open: false },
      { id: 1, name: "b", open: false },
      { id: 1, name: "c", open: true },
      { id: 2, name: "z", open: true },
    ]);
  });

  it("a re-uploaded applied file and a late file for the same key in one run: nothing is lost", async () => {
    const source = await SourceBucket.create();
    const output = await tempDir("scd2-inc-");
    const applied = [u(300, 3, product(1, "c")), u(310, 3, product(2, "z"))];
    await source.parquet(TABLE, 0, 2, applied);
    await run(source.root, output);
    // The same file written again (a new etag), beside a late file with older changes of key 1.
    await new Promise((r) => setTimeout(r, 5));
    await source.parquet(TABLE, 0, 2, applied);
    await source.parquet(TABLE, 0, 0, [u(100, 1, product(1, "a")), u(200, 2, product(1, "b"))]);
    const second = await run(source.root, output);
    expect(second.tables[0]).toMatchObject({ files: 2, versions: 4, current: 2 });
    const refreshed = await tempDir("scd2-full-");
    await run(source.root, refreshed, { fullRefresh: true });
    const table = await readTable(output, "products", ALL);
    expect(table.map((r) => [r.id, r.name])).toEqual([
      [1, "a"],
      [1, "b"],
      [1, "c"],
      [2, "z"],
    ]);
    expect(table).toEqual(await readTable(refreshed, "products", ALL));
  });

  it("many runs keep the number of files bounded (compaction) and the same table", async () => {
    const source = await SourceBucket.create();
    const output = await tempDir("scd2-inc-");
    for (let i = 0; i < COMPACT_AT + 2; i++) {
      await source.parquet(TABLE, 0, i, [u(100 + i, i % 60, product(1 + (i % 3), `n${i}`))]);
      await run(source.root, output);
    }
    const manifest = JSON.parse(await fs.readFile(path.join(output, MANIFEST_KEY), "utf8"));
    expect(manifest.tables[TABLE].history.length).toBeLessThan(COMPACT_AT);
    expect(manifest.tables[TABLE].applied.length).toBeLessThan(COMPACT_AT);
    const incremental = await readTable(output, "products", ALL);
    expect(incremental).toHaveLength(COMPACT_AT + 2);
    const full = await tempDir("scd2-full-");
    await run(source.root, full, { fullRefresh: true });
    expect(await readTable(full, "products", ALL)).toEqual(incremental);
  });

  it("a full refresh rebuilds from all files and removes every earlier output file", async () => {
    const source = await SourceBucket.create();
    const output = await tempDir("scd2-inc-");
    await source.parquet(TABLE, 0, 0, [u(100, 1, product(1, "a"))]);
    await run(source.root, output);
    await source.parquet(TABLE, 0, 1, [u(200, 2, product(1, "b"))]);
    await run(source.root, output);
    const incremental = await readTable(output, "products", ALL);
    const summary = await run(source.root, output, { fullRefresh: true });
    expect(summary.tables[0]).toMatchObject({ files: 2, events: 2, versions: 2, current: 1 });
    expect(await readTable(output, "products", ALL)).toEqual(incremental);
    const manifest = JSON.parse(await fs.readFile(path.join(output, MANIFEST_KEY), "utf8"));
    const referenced = new Set<string>([
      ...manifest.tables[TABLE].history.map((f: { key: string }) => f.key),
      manifest.tables[TABLE].current.key,
      ...manifest.tables[TABLE].keys,
      ...manifest.tables[TABLE].applied,
    ]);
    const onDisk = (await fs.readdir(output, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.relative(output, path.join(e.parentPath, e.name)))
      .filter((key) => key !== MANIFEST_KEY && key !== VIEWS_KEY);
    expect(new Set(onDisk)).toEqual(referenced);
  });
});
