// Directory-specific behaviour: atomic replacement, no leftovers, files read in place.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryStorage, StorageError } from "../../../analytics/src/storage";
import { CLAIM_STALE_MS } from "../../../analytics/src/storage/directory";

let scratch: string;
let counter = 0;
const fresh = (): DirectoryStorage => new DirectoryStorage(path.join(scratch, `root-${++counter}`));

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "directory-storage-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("DirectoryStorage", () => {
  it("needs an absolute root", () => {
    expect(() => new DirectoryStorage("relative/root")).toThrow(StorageError);
  });

  it("never lets a reader see a partly written file", async () => {
    const storage = fresh();
    const bodies = ["a".repeat(4 << 20), "b".repeat(3 << 20)];
    await storage.writeText("state.json", bodies[0]!);
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 20; i++) await storage.writeText("state.json", bodies[i % 2]!);
      writing = false;
    })();
    const seen = new Set<number>();
    while (writing) {
      const text = await storage.readText("state.json");
      seen.add(bodies.indexOf(text!));
    }
    await writer;
    expect([...seen].sort()).not.toContain(-1);
    expect(seen.size).toBeGreaterThan(0);
    expect(await storage.readText("state.json")).toBe(bodies[0]);
  });

  it("leaves the old content and no temporary file when a replacement fails", async () => {
    const storage = fresh();
    await storage.writeText("out/state.json", "old");
    // Renaming a file over a non-empty directory fails: the write must fail cleanly.
    mkdirSync(path.join(storage.root, "out", "blocked", "inner"), { recursive: true });
    await expect(storage.writeText("out/blocked", "new")).rejects.toThrow(/cannot write out\/blocked/);
    expect(await storage.readText("out/state.json")).toBe("old");
    expect(readdirSync(path.join(storage.root, "out")).sort()).toEqual(["blocked", "state.json"]);
  });

  it("removes the folders a move or delete leaves empty, and no others", async () => {
    const storage = fresh();
    await storage.writeText("_state/t/keys/1.parquet", "k");
    await storage.writeText("_state/t/pending/run-1/products/history/1.parquet", "h");
    await storage.move("_state/t/pending/run-1/products/history/1.parquet", "products/history/1.parquet");
    expect(readdirSync(path.join(storage.root, "_state", "t"))).toEqual(["keys"]);
    await storage.writeText("_state/t/pending/run-2/products/current/2.parquet", "c");
    await storage.delete(["_state/t/pending/run-2/products/current/2.parquet"]);
    expect(readdirSync(path.join(storage.root, "_state", "t"))).toEqual(["keys"]);
    await storage.delete(["_state/t/keys/1.parquet"]);
    expect(readdirSync(storage.root)).toEqual(["products"]);
  });

  it("does not list temporary files of writes in flight", async () => {
    const storage = fresh();
    await storage.writeText("t/a.txt", "a");
    writeFileSync(path.join(storage.root, "t", ".cdc-tmp-0123456789ab-a.txt"), "partial");
    expect((await storage.list("")).map((o) => o.key)).toEqual(["t/a.txt"]);
  });

  it("hands out the file in place, without copying", async () => {
    const storage = fresh();
    await storage.writeText("cdc.commerce.users/partition=0/f.json", "{}\n");
    expect(await storage.localCopy("cdc.commerce.users/partition=0/f.json", "/unused")).toBe(
      path.join(storage.root, "cdc.commerce.users", "partition=0", "f.json"),
    );
  });

  it("uploads atomically from a local file on its file system as a hard link (the source stays)", async () => {
    const storage = fresh();
    const source = path.join(scratch, `src-${++counter}.parquet`);
    writeFileSync(source, "PAR1");
    await storage.upload(source, "products/part-0.parquet");
    expect(await storage.readText("products/part-0.parquet")).toBe("PAR1");
    expect(readdirSync(scratch)).toContain(path.basename(source));
    const uploaded = statSync(path.join(storage.root, "products", "part-0.parquet"));
    expect(uploaded.ino).toBe(statSync(source).ino);
    expect(uploaded.nlink).toBe(2);
    // No temporary file is left beside it.
    expect(readdirSync(path.join(storage.root, "products"))).toEqual(["part-0.parquet"]);
  });

  it("copies a local file from another file system (a link cannot cross it)", async () => {
    // /dev/shm is a tmpfs on Linux; the test needs it on another device than the storage root.
    const other = mkdtempSync("/dev/shm/directory-storage-");
    try {
      const storage = fresh();
      if (statSync(other).dev === statSync(scratch).dev)
        throw new Error(`/dev/shm and ${scratch} are on one file system: this test needs two`);
      const source = path.join(other, "src.parquet");
      writeFileSync(source, "PAR1");
      await storage.upload(source, "products/part-0.parquet");
      const uploaded = statSync(path.join(storage.root, "products", "part-0.parquet"));
      expect(uploaded.ino).not.toBe(statSync(source).ino);
      expect(uploaded.nlink).toBe(1);
      expect(await storage.readText("products/part-0.parquet")).toBe("PAR1");
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("lists an existing file given as a prefix, and nothing under a file", async () => {
    const storage = fresh();
    await storage.writeText("x/file", "1");
    expect((await storage.list("x/file")).map((o) => o.key)).toEqual(["x/file"]);
    expect(await storage.list("x/file/")).toEqual([]);
  });

  describe("compare-and-swap claims", () => {
    const claimFile = (storage: DirectoryStorage, version: string, generation: number) =>
      path.join(storage.root, "locks", `.cdc-tmp-claim-run.lock-${version}.${generation}`);

    it.each([
      [
        "a live process on this host, just now",
        { host: hostname(), pid: process.pid, at: Date.now() },
        false,
      ],
      ["an exited process on this host", { host: hostname(), pid: 2 ** 22 + 12345, at: Date.now() }, true],
      [
        "another host, older than the claim limit",
        { host: `not-${hostname()}`, pid: 1, at: Date.now() - CLAIM_STALE_MS - 1000 },
        true,
      ],
      ["another host, just now", { host: `not-${hostname()}`, pid: 1, at: Date.now() }, false],
    ])("a claim left by %s lets the swap through: %s", async (_name, claim, swaps) => {
      const storage = fresh();
      const version = (await storage.createIfAbsent("locks/run.lock", "stale"))!;
      writeFileSync(claimFile(storage, version, 0), JSON.stringify(claim));
      const swapped = await storage.replaceIfVersion("locks/run.lock", "mine", version);
      expect(swapped === undefined ? "kept" : "swapped").toBe(swaps ? "swapped" : "kept");
      expect(await storage.readText("locks/run.lock")).toBe(swaps ? "mine" : "stale");
      // A finished swap leaves no claim behind; a refused one leaves the other caller's claim alone.
      expect(readdirSync(path.join(storage.root, "locks")).sort()).toEqual(
        swaps ? ["run.lock"] : [path.basename(claimFile(storage, version, 0)), "run.lock"],
      );
    });
  });
});
