import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Scd2Error } from "../../analytics/src/job";
import { LOCK_KEY } from "../../analytics/src/state/lock";
import { MANIFEST_KEY } from "../../analytics/src/state/manifest";
import { DirectoryStorage } from "../../analytics/src/storage";
import type { Storage, StoredObject, VersionedText } from "../../analytics/src/storage";
import {
  PRODUCT_COLUMNS,
  SourceBucket,
  query,
  readTable,
  run,
  tempDir,
  writeParquetFile,
  product,
  u,
  META_COLUMNS,
  sinkRow,
} from "./helpers/fixtures";

const TABLE = "commerce.products";

/** Every file under a directory with its bytes: to prove a failed run changed nothing. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  const files = new Map<string, string>();
  for (const e of entries.filter((x) => x.isFile())) {
    const file = path.join(e.parentPath, e.name);
    files.set(path.relative(dir, file), (await fs.readFile(file)).toString("base64"));
  }
  return files;
}

/** Output storage that fails its n-th write (upload, writeText, delete or a lock swap/delete), once. */
class FailingStorage implements Storage {
  calls = 0;
  constructor(
    private readonly inner: Storage,
    private readonly failAt: number,
  ) {}
  get uri() {
    return this.inner.uri;
  }
  private async write<T>(action: () => Promise<T>): Promise<T> {
    this.calls += 1;
    if (this.calls === this.failAt) throw new Error(`injected failure at write ${this.calls}`);
    return action();
  }
  list(prefix: string): Promise<StoredObject[]> {
    return this.inner.list(prefix);
  }
  localCopy(key: string, stagingDir: string): Promise<string> {
    return this.inner.localCopy(key, stagingDir);
  }
  readText(key: string): Promise<string | undefined> {
    return this.inner.readText(key);
  }
  createIfAbsent(key: string, body: string): Promise<string | undefined> {
    return this.inner.createIfAbsent(key, body);
  }
  readVersioned(key: string): Promise<VersionedText | undefined> {
    return this.inner.readVersioned(key);
  }
  replaceIfVersion(key: string, body: string, version: string): Promise<string | undefined> {
    return this.write(() => this.inner.replaceIfVersion(key, body, version));
  }
  deleteIfVersion(key: string, version: string): Promise<boolean> {
    return this.write(() => this.inner.deleteIfVersion(key, version));
  }
  upload(localPath: string, key: string): Promise<void> {
    return this.write(() => this.inner.upload(localPath, key));
  }
  writeText(key: string, body: string): Promise<void> {
    return this.write(() => this.inner.writeText(key, body));
  }
  delete(keys: readonly string[]): Promise<void> {
    return this.write(() => this.inner.delete(keys));
  }
}

/** The SCD2 rows of the files the committed manifest lists (what a manifest-aware reader sees). */
async function committedTable(output: string) {
  const manifest = JSON.parse(await fs.readFile(path.join(output, MANIFEST_KEY), "utf8"));
  const state = manifest.tables[TABLE];
  const files = [...state.history.map((f: { key: string }) => f.key), state.current.key].map(
    (k: string) => `'${path.join(output, k)}'`,
  );
  return query(`SELECT * FROM read_parquet([${files.join(", ")}]) ORDER BY ALL`);
}

describe("a run that fails at any write", () => {
  it("leaves the committed output readable, and the next run completes it", async () => {
    const source = await SourceBucket.create();
    await source.parquet(TABLE, 0, 2, [u(300, 3, product(1, "c")), u(310, 3, product(2, "z"))]);
    const base = await tempDir("scd2-base-");
    await run(source.root, base);
    const before = await readTable(base, "products", "ALL");
    // A forward change, and a late file that makes key 1's history be recomputed.
    await source.parquet(TABLE, 0, 4, [u(400, 4, product(2, "y"))]);
    await source.parquet(TABLE, 0, 0, [u(100, 1, product(1, "a")), u(200, 2, product(1, "b"))]);
    const full = await tempDir("scd2-full-");
    await run(source.root, full, { fullRefresh: true });
    const after = await readTable(full, "products", "ALL");
    expect(after).not.toEqual(before);

    const counting = new FailingStorage(new DirectoryStorage(await copyOf(base)), 0);
    await run(source.storage(), counting);
    expect(counting.calls).toBeGreaterThan(4);
    for (let failAt = 1; failAt <= counting.calls; failAt++) {
      const output = await copyOf(base);
      const failing = new FailingStorage(new DirectoryStorage(output), failAt);
      const outcome = await run(source.storage(), failing).then(
        () => "done",
        (error: Error) => error.message,
      );
      const committed = await committedTable(output);
      expect([before, after], `failure at write ${failAt}: ${outcome}`).toContainEqual(committed);
      await run(source.storage(), output, { lockStaleAfterMs: 0 });
      expect(await readTable(output, "products", "ALL"), `recovery after failure at write ${failAt}`).toEqual(
        after,
      );
    }
  });
});

async function copyOf(dir: string): Promise<string> {
  const copy = await tempDir("scd2-copy-");
  await fs.cp(dir, copy, { recursive: true });
  return copy;
}

describe("bad input", () => {
  const bad: { name: string; write: (source: SourceBucket) => Promise<string>; message: RegExp }[] = [
    {
      name: "a corrupt Parquet file",
      write: async (source) => {
        const key = "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000005.snappy.parquet";
        await fs.writeFile(path.join(source.root, key), "PAR1 this is not parquet PAR1");
        return key;
      },
      message:
        /cannot read the Parquet footer of cdc\.commerce\.products\/partition=0\/cdc\.commerce\.products\+0\+0000000005\.snappy\.parquet/,
    },
    {
      name: "a file without the key column",
      write: async (source) => {
        const key = "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000005.snappy.parquet";
        const columns = [...PRODUCT_COLUMNS.filter((c) => c.name !== "id"), ...META_COLUMNS];
        await writeParquetFile(source.root, key, "cdc.commerce.products", columns, [
          sinkRow(u(500, 5, product(3, "q")), TABLE, PRODUCT_COLUMNS),
        ]);
        return key;
      },
      message: /cdc\.commerce\.products\+0\+0000000005\.snappy\.parquet has no column id/,
    },
    {
      name: "a file whose Avro schema cannot be read",
      write: async (source) => {
        const key = "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000005.snappy.parquet";
        const columns = [...PRODUCT_COLUMNS, ...META_COLUMNS].map((c) => ({ ...c, avro: "not-a-type" }));
        const row = sinkRow(u(500, 5, product(3, "q")), TABLE, PRODUCT_COLUMNS);
        await writeParquetFile(source.root, key, "cdc.commerce.products", columns, [row], {
          avroSchema: "{not json",
        });
        return key;
      },
      message:
        /unreadable schema in cdc\.commerce\.products\/partition=0\/cdc\.commerce\.products\+0\+0000000005\.snappy\.parquet/,
    },
    {
      name: "a change without an LSN",
      write: async (source) => {
        const key = "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000005.snappy.parquet";
        const row = { ...sinkRow(u(500, 5, product(3, "q")), TABLE, PRODUCT_COLUMNS), __lsn: null };
        await writeParquetFile(
          source.root,
          key,
          "cdc.commerce.products",
          [...PRODUCT_COLUMNS, ...META_COLUMNS],
          [row],
        );
        return key;
      },
      message:
        /cdc\.commerce\.products\+0\+0000000005\.snappy\.parquet has a row \(offset 5\) with NULL __lsn/,
    },
    {
      name: "a file name that is not the sink's layout",
      write: async (source) => {
        const key = "cdc.commerce.products/partition=0/export.parquet";
        await fs.writeFile(path.join(source.root, key), "x");
        return key;
      },
      message: /unexpected file cdc\.commerce\.products\/partition=0\/export\.parquet/,
    },
    {
      name: "a truncated JSON file",
      write: async (source) => source.json(TABLE, 0, 5, ['{"id": 3, "__op": "c", "__lsn": 5', ""]),
      message: /cdc\.commerce\.products\+0\+0000000005\.json/,
    },
  ];
  for (const testCase of bad) {
    it(`${testCase.name}: an Scd2Error naming the file, and nothing written`, async () => {
      const source = await SourceBucket.create();
      await source.parquet(TABLE, 0, 0, [u(100, 1, product(1, "a"))]);
      const output = await tempDir("scd2-out-");
      await run(source.root, output);
      const before = await snapshot(output);
      await source.parquet(TABLE, 0, 1, [u(200, 2, product(1, "b"))]);
      await testCase.write(source);
      const error = await run(source.root, output).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Scd2Error);
      expect((error as Error).message).toMatch(testCase.message);
      expect(await snapshot(output)).toEqual(before);
    });
  }

  it("skips hidden files (temporary uploads) under a topic", async () => {
    const source = await SourceBucket.create();
    await source.parquet(TABLE, 0, 0, [u(100, 1, product(1, "a"))]);
    await fs.writeFile(
      path.join(source.root, "cdc.commerce.products/partition=0/.upload-123.tmp"),
      "partial",
    );
    const output = await tempDir("scd2-out-");
    const summary = await run(source.root, output);
    expect(summary.tables[0]).toMatchObject({ files: 1, versions: 1 });
  });
});

describe("the run lock", () => {
  const lockBody = (pid: number, startedAt: Date) =>
    JSON.stringify({ runId: "other", host: os.hostname(), pid, startedAt: startedAt.toISOString() });

  async function setup() {
    const source = await SourceBucket.create();
    await source.parquet(TABLE, 0, 0, [u(100, 1, product(1, "a"))]);
    const output = await tempDir("scd2-out-");
    await fs.mkdir(path.join(output, "_state"), { recursive: true });
    return { source, output };
  }

  it("a second run fails clearly while the first holds the lock", async () => {
    const { source, output } = await setup();
    let releaseFirst: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (releaseFirst = resolve));
    const slowSource = Object.assign(Object.create(source.storage()) as DirectoryStorage, {
      list: async (prefix: string) => {
        await gate;
        return source.storage().list(prefix);
      },
    });
    const first = run(slowSource, output);
    await waitFor(() => fs.access(path.join(output, LOCK_KEY)));
    const second = await run(source.root, output).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(Scd2Error);
    expect((second as Error).message).toMatch(
      /_state\/lock is held by run \S+ \(host .+, pid \d+, since .+\)/,
    );
    releaseFirst();
    expect((await first).tables[0]).toMatchObject({ files: 1, versions: 1 });
    await expect(fs.access(path.join(output, LOCK_KEY))).rejects.toThrow();
  });

  it("a lock of a live process that is not stale blocks the run", async () => {
    const { source, output } = await setup();
    await fs.writeFile(path.join(output, LOCK_KEY), lockBody(process.ppid, new Date()));
    await expect(run(source.root, output)).rejects.toThrow(/is held by run other/);
  });

  it("a lock older than the stale limit is taken over", async () => {
    const { source, output } = await setup();
    await fs.writeFile(
      path.join(output, LOCK_KEY),
      lockBody(process.ppid, new Date(Date.now() - 7 * 3600_000)),
    );
    expect((await run(source.root, output)).tables[0]).toMatchObject({ versions: 1 });
  });

  it("a lock of a process on this host that has exited is taken over", async () => {
    const { source, output } = await setup();
    await fs.writeFile(path.join(output, LOCK_KEY), lockBody(2 ** 22 + 12345, new Date()));
    expect((await run(source.root, output)).tables[0]).toMatchObject({ versions: 1 });
  });
});

async function waitFor(check: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (
      await check().then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("timed out");
}
