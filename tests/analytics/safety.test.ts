import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { Scd2Error } from "../../analytics/src/job";
import { LOCK_KEY } from "../../analytics/src/state/lock";
import { MANIFEST_KEY, referencedKeys } from "../../analytics/src/state/manifest";
import type { Manifest } from "../../analytics/src/state/manifest";
import { DirectoryStorage, S3Storage } from "../../analytics/src/storage";
import { VIEWS_KEY } from "../../analytics/src/views";
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
import { startS3Server } from "./storage/s3-server";

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

/** A write to the output: its method and the key it writes (the first one, for delete). */
type Write = { method: string; key: string };

/**
 * Output storage that fails one write (upload, writeText, move, delete or a lock swap/delete): its n-th,
 * or the first that `failOn` picks.
 */
class FailingStorage implements Storage {
  calls = 0;
  constructor(
    private readonly inner: Storage,
    private readonly failAt: number | ((write: Write, calls: number) => boolean),
  ) {}
  get uri() {
    return this.inner.uri;
  }
  private failed = false;
  private async write<T>(method: string, key: string, action: () => Promise<T>): Promise<T> {
    this.calls += 1;
    const fail =
      typeof this.failAt === "number"
        ? this.calls === this.failAt
        : !this.failed && this.failAt({ method, key }, this.calls);
    if (fail) {
      this.failed = true;
      throw new Error(`injected failure at write ${this.calls} (${method} ${key})`);
    }
    return action();
  }
  list(prefix: string): Promise<StoredObject[]> {
    return this.inner.list(prefix);
  }
  localCopy(key: string, stagingDir: string): Promise<string> {
    return this.inner.localCopy(key, stagingDir);
  }
  stagedBytes(objects: readonly StoredObject[], stagingDir: string): Promise<number> {
    return this.inner.stagedBytes(objects, stagingDir);
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
    return this.write("replaceIfVersion", key, () => this.inner.replaceIfVersion(key, body, version));
  }
  deleteIfVersion(key: string, version: string): Promise<boolean> {
    return this.write("deleteIfVersion", key, () => this.inner.deleteIfVersion(key, version));
  }
  upload(localPath: string, key: string): Promise<void> {
    return this.write("upload", key, () => this.inner.upload(localPath, key));
  }
  writeText(key: string, body: string): Promise<void> {
    return this.write("writeText", key, () => this.inner.writeText(key, body));
  }
  delete(keys: readonly string[]): Promise<void> {
    return this.write("delete", keys[0] ?? "", () => this.inner.delete(keys));
  }
  move(fromKey: string, toKey: string): Promise<void> {
    return this.write("move", toKey, () => this.inner.move(fromKey, toKey));
  }
}

async function readManifestFile(output: string): Promise<Manifest> {
  return JSON.parse(await fs.readFile(path.join(output, MANIFEST_KEY), "utf8")) as Manifest;
}

/**
 * The SCD2 rows of the files the committed manifest lists (what a manifest-aware reader sees): a file a
 * pending publication has not moved yet is read at its pending key.
 */
async function committedTable(output: string) {
  const manifest = await readManifestFile(output);
  const state = manifest.tables[TABLE]!;
  const pending = new Map((manifest.publication?.moves ?? []).map((m) => [m.to, m.from]));
  const files: string[] = [];
  for (const key of [...state.history.map((f) => f.key), state.current.key]) {
    const moved = await fs.access(path.join(output, key)).then(
      () => true,
      () => false,
    );
    files.push(`'${path.join(output, moved ? key : pending.get(key)!)}'`);
  }
  return query(`SELECT * FROM read_parquet([${files.join(", ")}]) ORDER BY ALL`);
}

/**
 * A committed output (`base`, whose table is `before`) and new source files for the next run: a forward
 * change, and a late file that makes key 1's history be recomputed. `after` is the table they make.
 */
async function lateChangeScenario() {
  const source = await SourceBucket.create();
  await source.parquet(TABLE, 0, 2, [u(300, 3, product(1, "c")), u(310, 3, product(2, "z"))]);
  const base = await tempDir("scd2-base-");
  await run(source.root, base);
  const before = await readTable(base, "products", "ALL");
  await source.parquet(TABLE, 0, 4, [u(400, 4, product(2, "y"))]);
  await source.parquet(TABLE, 0, 0, [u(100, 1, product(1, "a")), u(200, 2, product(1, "b"))]);
  const full = await tempDir("scd2-full-");
  await run(source.root, full, { fullRefresh: true });
  const after = await readTable(full, "products", "ALL");
  return { source, base, before, after };
}

/**
 * Every file under the output but the manifest and the views file: exactly the ones its state
 * references when nothing is stale.
 */
async function storedKeys(output: string): Promise<string[]> {
  const keys = (await new DirectoryStorage(output).list("")).map((o) => o.key);
  return keys.filter((key) => key !== MANIFEST_KEY && key !== VIEWS_KEY).sort();
}

async function expectNothingStale(output: string): Promise<void> {
  const manifest = await readManifestFile(output);
  expect(manifest.publication).toBeUndefined();
  expect(await storedKeys(output)).toEqual(referencedKeys(manifest.tables[TABLE]!).sort());
}

describe("a run that fails at any write", () => {
  it("leaves the committed output readable, and the next run completes it", async () => {
    const { source, base, before, after } = await lateChangeScenario();
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
      if (isDeepStrictEqual(committed, before)) {
        // Not committed: a plain glob still sees exactly the previous output.
        expect(await readTable(output, "products", "ALL"), `glob after failure at write ${failAt}`).toEqual(
          before,
        );
      }
      await run(source.storage(), output, { lockStaleAfterMs: 0 });
      expect(await readTable(output, "products", "ALL"), `recovery after failure at write ${failAt}`).toEqual(
        after,
      );
    }
  });
});

describe("publication: table files become visible to a glob only after the commit", () => {
  const manifestWrite = (write: Write) => write.method === "writeText" && write.key === MANIFEST_KEY;
  /** Picks the n-th write that `pick` matches. */
  const nth = (pick: (write: Write) => boolean, n: number) => {
    let seen = 0;
    return (write: Write) => pick(write) && ++seen === n;
  };

  it("a run that fails after its pending uploads, before the commit, leaves the glob view as it was", async () => {
    const { source, base, before, after } = await lateChangeScenario();
    expect(before).toHaveLength(2);
    expect(after).toHaveLength(5);
    const output = await copyOf(base);
    const failing = new FailingStorage(new DirectoryStorage(output), nth(manifestWrite, 1));
    await expect(run(source.storage(), failing)).rejects.toThrow(
      /injected failure at write \d+ \(writeText _state\/manifest\.json\)/,
    );
    const pending = (await storedKeys(output)).filter((key) => key.includes("/pending/"));
    expect(pending.map((key) => key.replace(/[\dTZ]{15,}Z?-[0-9a-f]{8}/g, "<run>"))).toEqual([
      `_state/${TABLE}/pending/<run>/products/current/<run>.parquet`,
      `_state/${TABLE}/pending/<run>/products/history/<run>.parquet`,
    ]);
    expect(await readTable(output, "products", "ALL")).toEqual(before);
    expect(await committedTable(output)).toEqual(await committedTable(base));

    expect((await run(source.storage(), output)).tables[0]).toMatchObject({ files: 2, versions: 5 });
    expect(await readTable(output, "products", "ALL")).toEqual(after);
    await expectNothingStale(output);
  });

  const afterCommit: [string, (write: Write) => boolean][] = [
    ["the first move", nth((w) => w.method === "move", 1)],
    ["the second move", nth((w) => w.method === "move", 2)],
    ["the delete of superseded files", (w) => w.method === "delete"],
    ["the manifest rewrite", nth(manifestWrite, 2)],
  ];
  it.each(afterCommit)(
    "a run that stops at %s after the commit is rolled forward by the next run",
    async (_point, failOn) => {
      const { source, base, after } = await lateChangeScenario();
      const output = await copyOf(base);
      await expect(
        run(source.storage(), new FailingStorage(new DirectoryStorage(output), failOn)),
      ).rejects.toThrow(/injected failure/);
      const manifest = await readManifestFile(output);
      expect(manifest.version).toBe(3);
      expect(manifest.publication?.moves).toHaveLength(2);
      expect(await committedTable(output)).toEqual(after);

      // No new source files: the run only finishes the publication.
      expect((await run(source.storage(), output)).tables[0]).toMatchObject({ files: 0, versions: 5 });
      expect(await readTable(output, "products", "ALL")).toEqual(after);
      await expectNothingStale(output);
    },
  );

  it("on S3 (s3rver): a run stopped at its second move after the commit is rolled forward", async () => {
    const server = await startS3Server(["publish"]);
    try {
      const { source, base, after } = await lateChangeScenario();
      const output = new S3Storage({ bucket: "publish", prefix: "scd2/" }, { client: server.client() });
      for (const object of await new DirectoryStorage(base).list("")) {
        await output.upload(path.join(base, object.key), object.key);
      }
      const failing = new FailingStorage(
        output,
        nth((w) => w.method === "move", 2),
      );
      await expect(run(source.storage(), failing)).rejects.toThrow(/injected failure .*\(move products\//);

      const stopped = JSON.parse((await output.readText(MANIFEST_KEY))!) as Manifest;
      expect(stopped.publication?.moves).toHaveLength(2);

      await run(source.storage(), output);
      const staging = await tempDir("scd2-staging-");
      const files: string[] = [];
      for (const object of await output.list("products/"))
        files.push(await output.localCopy(object.key, staging));
      const list = files.map((f) => `'${f}'`).join(", ");
      expect(await query(`SELECT * FROM read_parquet([${list}]) ORDER BY ALL`)).toEqual(after);
      const manifest = JSON.parse((await output.readText(MANIFEST_KEY))!) as Manifest;
      expect(manifest.publication).toBeUndefined();
      const stored = (await output.list(""))
        .map((o) => o.key)
        .filter((key) => key !== MANIFEST_KEY && key !== VIEWS_KEY);
      expect(stored).toEqual(referencedKeys(manifest.tables[TABLE]!).sort());
    } finally {
      await server.stop();
    }
  });

  it.each([1, 2])(
    "reads a version %i manifest (one key state file), and writes version 3",
    async (version) => {
      const { source, base, after } = await lateChangeScenario();
      const manifest = await readManifestFile(base);
      const tables = Object.fromEntries(
        Object.entries(manifest.tables).map(([name, t]) => {
          expect(t.keys).toHaveLength(1);
          return [name, { ...t, keys: t.keys[0] }];
        }),
      );
      await fs.writeFile(path.join(base, MANIFEST_KEY), JSON.stringify({ version, tables }));
      await run(source.storage(), base);
      expect(await readTable(base, "products", "ALL")).toEqual(after);
      const written = await readManifestFile(base);
      expect(written.version).toBe(3);
      // Both keys changed: the update is merged with the base, which it replaces.
      expect(written.tables[TABLE]!.keys).toHaveLength(1);
      expect(written.tables[TABLE]!.keys).not.toEqual([manifest.tables[TABLE]!.keys[0]]);
      await expectNothingStale(base);
    },
  );
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
