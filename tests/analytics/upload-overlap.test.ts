// A table run hands each file over for upload as soon as it is written, and goes on writing the next:
// the history's upload (on S3, the run's largest transfer) overlaps the writing of the state files. The
// job's TableUploads starts each upload at once, one at a time, each after confirming the run lock.
import { mkdirSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { discoverSourceFiles } from "../../analytics/src/discovery";
import { runTable } from "../../analytics/src/scd2/table-run";
import type { PendingFile } from "../../analytics/src/scd2/files";
import type { RunLock } from "../../analytics/src/state/lock";
import { DirectoryStorage } from "../../analytics/src/storage";
import type { Storage } from "../../analytics/src/storage";
import { TableUploads } from "../../analytics/src/uploads";
import { SourceBucket, product, tempDir, u } from "./helpers/fixtures";

/** A scratch file name or key with the run id replaced by `<run>`. */
const named = (name: string) => name.replaceAll("run-1", "<run>");

describe("a table run's uploads", () => {
  it("are handed over as each file is written: the history before the state files exist", async () => {
    const source = await SourceBucket.create();
    await source.parquet("commerce.products", 0, 0, [
      u(100, 1, product(1, "a")),
      u(110, 2, product(1, "b")),
      u(120, 3, product(2, "c")),
    ]);
    const topic = "cdc.commerce.products";
    const files = discoverSourceFiles(await source.storage().list(`${topic}/`), topic);
    const work = await tempDir("scd2-work-");
    const scratchDir = path.join(work, "scratch");
    mkdirSync(scratchDir);
    const handed: { keys: string[]; written: string[] }[] = [];
    const result = await runTable(
      {
        source: source.storage(),
        output: new DirectoryStorage(await tempDir("scd2-out-")),
        runId: "run-1",
        fullRefresh: true,
        duck: { workDir: work, threads: 2, memoryLimit: "1GB" },
        stagingDir: path.join(work, "staging"),
        scratchDir,
        // What the scratch dir holds when the run hands files over: what it has written so far.
        upload: (written) => {
          if (written.length > 0)
            handed.push({ keys: written.map((f) => f.key), written: readdirSync(scratchDir).sort() });
        },
      },
      { table: "commerce.products", topic, dir: "products", primaryKey: ["id"], columnTypes: {} },
      undefined,
      files,
    );
    expect(handed.map((h) => h.keys.map(named))).toEqual([
      ["products/history/<run>.parquet", "products/current/<run>.parquet"],
      ["_state/commerce.products/keys/<run>.parquet"],
      ["_state/commerce.products/applied/<run>.parquet"],
    ]);
    expect(handed[0]!.written.map(named)).toEqual([
      "products__current__<run>.parquet",
      "products__history__<run>.parquet",
    ]);
    expect(result.state?.current.rows).toBe(2);
  });
});

/** Output storage whose uploads wait until the test ends them; records every call in `log`. */
function heldUploads(log: string[]) {
  const pending = new Map<string, { resolve(): void; reject(error: Error): void }>();
  const storage = {
    upload: (local: string, key: string) =>
      new Promise<void>((resolve, reject) => {
        log.push(`upload ${local} -> ${key}`);
        pending.set(local, { resolve, reject });
      }),
  } as unknown as Storage;
  return {
    storage,
    finish: (local: string) => pending.get(local)!.resolve(),
    fail: (local: string, error: Error) => pending.get(local)!.reject(error),
  };
}

/** A run lock that logs each confirm, and throws `lost` once set. */
function lockLogging(log: string[], lost?: Error): RunLock {
  return {
    runId: "run-1",
    lost: undefined,
    confirm: async () => {
      log.push("confirm");
      if (lost) throw lost;
    },
    release: async () => undefined,
  };
}

const file = (key: string): PendingFile => ({
  key,
  local: `/scratch/${key.replaceAll("/", "__")}`,
  rows: 1,
  deleted: 0,
});
const settle = () => new Promise((resolve) => setImmediate(resolve));
const spec = { table: "commerce.products", dir: "products" };

/** TableUploads of run-1 over held uploads and a logging lock (lost when `lost` is given). */
function heldTableUploads(lost?: Error) {
  const log: string[] = [];
  const held = heldUploads(log);
  return { log, held, uploads: new TableUploads(held.storage, spec, "run-1", lockLogging(log, lost)) };
}

describe("TableUploads", () => {
  it("starts each upload when it is added, one at a time in order, after confirming the lock", async () => {
    const { log, held, uploads } = heldTableUploads();
    uploads.add([file("products/history/run-1.parquet"), file("products/current/run-1.parquet")]);
    await settle();
    // Uploading before done() is asked for, and only the first.
    expect(log).toEqual([
      "confirm",
      "upload /scratch/products__history__run-1.parquet -> _state/commerce.products/pending/run-1/products/history/run-1.parquet",
    ]);
    uploads.add([file("_state/commerce.products/keys/run-1.parquet")]);
    held.finish("/scratch/products__history__run-1.parquet");
    await settle();
    held.finish("/scratch/products__current__run-1.parquet");
    await settle();
    held.finish("/scratch/_state__commerce.products__keys__run-1.parquet");
    expect(await uploads.done()).toEqual([
      {
        from: "_state/commerce.products/pending/run-1/products/history/run-1.parquet",
        to: "products/history/run-1.parquet",
      },
      {
        from: "_state/commerce.products/pending/run-1/products/current/run-1.parquet",
        to: "products/current/run-1.parquet",
      },
    ]);
    expect(log.slice(2)).toEqual([
      "confirm",
      "upload /scratch/products__current__run-1.parquet -> _state/commerce.products/pending/run-1/products/current/run-1.parquet",
      "confirm",
      "upload /scratch/_state__commerce.products__keys__run-1.parquet -> _state/commerce.products/keys/run-1.parquet",
    ]);
  });

  it("starts no upload after a failed one, and done() throws that failure", async () => {
    const { log, held, uploads } = heldTableUploads();
    uploads.add([file("products/history/run-1.parquet"), file("products/current/run-1.parquet")]);
    await settle();
    held.fail("/scratch/products__history__run-1.parquet", new Error("disk full"));
    await expect(uploads.done()).rejects.toThrow("disk full");
    expect(log.filter((line) => line.startsWith("upload"))).toHaveLength(1);
  });

  it("uploads nothing once the run lock is lost, and done() throws the loss", async () => {
    const lost = new Error("run run-1 lost its run lock");
    const { log, uploads } = heldTableUploads(lost);
    uploads.add([file("products/history/run-1.parquet")]);
    await expect(uploads.done()).rejects.toThrow(lost.message);
    expect(log).toEqual(["confirm"]);
  });
});
