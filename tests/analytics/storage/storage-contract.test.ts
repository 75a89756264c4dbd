// The Storage contract, run against both backends: a local directory and S3 on a real s3rver process.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DirectoryStorage,
  S3Storage,
  StorageError,
  s3ClientFromEnvironment,
} from "../../../analytics/src/storage";
import type { Storage } from "../../../analytics/src/storage";
import { startConditionalPutProxy } from "./conditional-put-proxy";
import type { ConditionalPutProxy } from "./conditional-put-proxy";
import { startS3Server } from "./s3-server";
import type { S3TestServer } from "./s3-server";

let server: S3TestServer;
let proxy: ConditionalPutProxy;
let scratch: string;
let counter = 0;

beforeAll(async () => {
  server = await startS3Server(["contract"]);
  proxy = await startConditionalPutProxy(server.endpoint, server.client());
  scratch = mkdtempSync(path.join(tmpdir(), "storage-contract-"));
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Each test gets a fresh, empty storage root. */
const backends: [string, () => Storage][] = [
  ["directory", () => new DirectoryStorage(path.join(scratch, `dir-${++counter}`))],
  [
    "s3",
    () =>
      new S3Storage(
        { bucket: "contract", prefix: `run-${++counter}/` },
        {
          // Through the proxy that adds AWS's If-None-Match behaviour to s3rver.
          client: s3ClientFromEnvironment({ ...server.env, AWS_ENDPOINT_URL: proxy.endpoint }),
        },
      ),
  ],
];

function localFile(name: string, body: string | Buffer): string {
  const file = path.join(scratch, `${++counter}-${name}`);
  writeFileSync(file, body);
  return file;
}

describe.each(backends)("%s storage", (_name, open) => {
  it("lists nothing under an empty root", async () => {
    expect(await open().list("")).toEqual([]);
  });

  it("reads back what it writes, and undefined for a missing key", async () => {
    const storage = open();
    await storage.writeText("state/manifest.json", '{"v":1}');
    expect(await storage.readText("state/manifest.json")).toBe('{"v":1}');
    await storage.writeText("state/manifest.json", '{"v":2}');
    expect(await storage.readText("state/manifest.json")).toBe('{"v":2}');
    expect(await storage.readText("state/missing.json")).toBeUndefined();
  });

  it("shows a read during a rewrite the old object or the new one, whole", async () => {
    // As S3 does (a PUT is atomic); s3rver alone rewrites the object's file in place (see the proxy).
    const storage = open();
    const before = "a".repeat(1024);
    const after = "b".repeat(16 * 1024 * 1024);
    await storage.writeText("lock", before);
    let writing = true;
    const written = storage.writeText("lock", after).finally(() => (writing = false));
    const seen = new Set<string>();
    while (writing) {
      const text = (await storage.readText("lock")) ?? "(missing)";
      seen.add(text === before ? "before" : text === after ? "after" : `${text.length} chars of ${text[0]}`);
    }
    await written;
    seen.add((await storage.readText("lock")) === after ? "after" : "not after");
    expect([...seen].filter((s) => s !== "before" && s !== "after")).toEqual([]);
  });

  it("lists recursively, sorted by key, filtered by a string prefix, with size and etag", async () => {
    const storage = open();
    for (const key of ["b/2.txt", "a/x/1.txt", "ab.txt", "a/0.txt"]) await storage.writeText(key, key);
    const all = await storage.list("");
    expect(all.map((o) => o.key)).toEqual(["a/0.txt", "a/x/1.txt", "ab.txt", "b/2.txt"]);
    expect(all.map((o) => o.size)).toEqual([7, 9, 6, 7]);
    expect(all.every((o) => o.etag.length > 0)).toBe(true);
    expect((await storage.list("a/")).map((o) => o.key)).toEqual(["a/0.txt", "a/x/1.txt"]);
    expect((await storage.list("a")).map((o) => o.key)).toEqual(["a/0.txt", "a/x/1.txt", "ab.txt"]);
    expect((await storage.list("a/x/1")).map((o) => o.key)).toEqual(["a/x/1.txt"]);
    expect(await storage.list("c/")).toEqual([]);
  });

  it("changes the etag when an object is rewritten", async () => {
    const storage = open();
    await storage.writeText("t.txt", "one");
    const [before] = await storage.list("");
    await storage.writeText("t.txt", "three");
    const [after] = await storage.list("");
    expect(after!.etag).not.toBe(before!.etag);
    expect(after!.size).toBe(5);
  });

  it("uploads a local file and hands back a local copy with the same bytes", async () => {
    const storage = open();
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await storage.upload(localFile("data.bin", bytes), "products/part-0.parquet");
    const copy = await storage.localCopy(
      "products/part-0.parquet",
      path.join(scratch, `staging-${++counter}`),
    );
    expect(readFileSync(copy).equals(bytes)).toBe(true);
    expect(await storage.list("products/")).toMatchObject([{ key: "products/part-0.parquet", size: 70_000 }]);
  });

  it("deletes objects and ignores keys that do not exist", async () => {
    const storage = open();
    for (const key of ["d/1", "d/2", "d/3"]) await storage.writeText(key, key);
    await storage.delete(["d/1", "d/3", "d/never-existed"]);
    expect((await storage.list("")).map((o) => o.key)).toEqual(["d/2"]);
    await storage.delete([]);
    expect((await storage.list("")).map((o) => o.key)).toEqual(["d/2"]);
  });

  it("moves an object to a new key, with its bytes, and the old key is gone", async () => {
    const storage = open();
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await storage.upload(
      localFile("data.bin", bytes),
      "_state/t/pending/run-1/products/current/run-1.parquet",
    );
    await storage.move(
      "_state/t/pending/run-1/products/current/run-1.parquet",
      "products/current/run-1.parquet",
    );
    expect((await storage.list("")).map((o) => [o.key, o.size])).toEqual([
      ["products/current/run-1.parquet", 70_000],
    ]);
    const copy = await storage.localCopy(
      "products/current/run-1.parquet",
      path.join(scratch, `staging-${++counter}`),
    );
    expect(readFileSync(copy).equals(bytes)).toBe(true);
  });

  it.each([
    ["moves over an existing object, replacing it", ["m/target.txt"], [["m/new.txt", "m/target.txt"]]],
    ["moves a key with a character CopySource has to URL-encode", [], [["m/a b.txt", "n/a b.txt"]]],
    [
      "takes a move whose source is gone and whose target exists as done",
      [],
      [
        ["m/from.txt", "m/to.txt"],
        ["m/from.txt", "m/to.txt"],
      ],
    ],
  ])("%s", async (_name, existing, moves) => {
    const storage = open();
    for (const key of existing) await storage.writeText(key, "old");
    const [from, to] = moves[0]!;
    await storage.writeText(from!, "new");
    for (const [a, b] of moves) await storage.move(a!, b!);
    expect(await storage.readText(to!)).toBe("new");
    expect((await storage.list("")).map((o) => o.key)).toEqual([to]);
  });

  it("fails naming the keys when neither the source nor the target exists", async () => {
    const storage = open();
    await storage.writeText("m/other.txt", "x");
    const error = await storage.move("m/missing.txt", "m/to.txt").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/: cannot move m\/missing\.txt to m\/to\.txt: /);
    expect((await storage.list("")).map((o) => o.key)).toEqual(["m/other.txt"]);
  });

  it("creates a key exclusively: the first caller wins, later ones get undefined, the body is kept", async () => {
    const storage = open();
    expect(await storage.createIfAbsent("locks/run.lock", "owner-1")).toEqual(expect.any(String));
    expect(await storage.createIfAbsent("locks/run.lock", "owner-2")).toBeUndefined();
    expect(await storage.readText("locks/run.lock")).toBe("owner-1");
    await storage.delete(["locks/run.lock"]);
    expect(await storage.createIfAbsent("locks/run.lock", "owner-3")).toEqual(expect.any(String));
  });

  it("lets exactly one of several concurrent callers take the lock", async () => {
    const storage = open();
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        async (_, i) => (await storage.createIfAbsent("locks/race.lock", `owner-${i}`)) !== undefined,
      ),
    );
    expect(results.filter((won) => won)).toHaveLength(1);
    expect(await storage.readText("locks/race.lock")).toBe(`owner-${results.indexOf(true)}`);
  });

  it("compare-and-swaps on the version: a stale version neither replaces nor deletes", async () => {
    const storage = open();
    const v1 = await storage.createIfAbsent("locks/cas.lock", "body-1");
    expect(v1).toEqual(expect.any(String));
    expect(await storage.createIfAbsent("locks/cas.lock", "body-x")).toBeUndefined();
    expect(await storage.readVersioned("locks/cas.lock")).toEqual({ text: "body-1", version: v1 });
    const v2 = await storage.replaceIfVersion("locks/cas.lock", "body-2", v1!);
    expect(v2).toEqual(expect.any(String));
    expect(v2).not.toBe(v1);
    expect(await storage.readVersioned("locks/cas.lock")).toEqual({ text: "body-2", version: v2 });
    expect(await storage.replaceIfVersion("locks/cas.lock", "body-3", v1!)).toBeUndefined();
    expect(await storage.deleteIfVersion("locks/cas.lock", v1!)).toBe(false);
    expect(await storage.readText("locks/cas.lock")).toBe("body-2");
    expect(await storage.deleteIfVersion("locks/cas.lock", v2!)).toBe(true);
    expect(await storage.readVersioned("locks/cas.lock")).toBeUndefined();
    expect(await storage.replaceIfVersion("locks/cas.lock", "body-4", v2!)).toBeUndefined();
    expect(await storage.deleteIfVersion("locks/cas.lock", v2!)).toBe(false);
    expect(await storage.readVersioned("locks/cas.lock")).toBeUndefined();
    expect((await storage.list("")).map((o) => o.key)).toEqual([]);
  });

  it("lets exactly one of several concurrent swaps of the same version win", async () => {
    const storage = open();
    const version = (await storage.createIfAbsent("locks/swap.lock", "stale"))!;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => storage.replaceIfVersion("locks/swap.lock", `owner-${i}`, version)),
    );
    const winners = results.flatMap((v, i) => (v === undefined ? [] : [i]));
    expect(winners).toHaveLength(1);
    expect(await storage.readVersioned("locks/swap.lock")).toEqual({
      text: `owner-${winners[0]}`,
      version: results[winners[0]!],
    });
    expect((await storage.list("")).map((o) => o.key)).toEqual(["locks/swap.lock"]);
  });

  it.each(["", "/abs", "a/../b", "a//b", "./a", "a\\b"])(
    "rejects the key %j with a StorageError",
    async (key) => {
      const storage = open();
      await expect(storage.writeText(key, "x")).rejects.toThrow(StorageError);
      await expect(storage.readText(key)).rejects.toThrow(/invalid storage key/);
    },
  );

  it("names the key when a local copy of a missing object is asked for", async () => {
    const storage = open();
    await expect(storage.localCopy("nope/missing.parquet", path.join(scratch, "staging"))).rejects.toThrow(
      /cannot (read|download) nope\/missing\.parquet/,
    );
  });
});
