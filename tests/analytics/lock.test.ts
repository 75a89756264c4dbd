// The run lock on both backends (a directory, and S3 on a real s3rver process behind the proxy that adds
// AWS's conditional-write answers): atomic takeover of a stale lock, the heartbeat, and losing the lock.
import { writeFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Scd2Error } from "../../analytics/src/job";
import { LOCK_KEY, acquireLock, parseLockBody } from "../../analytics/src/state/lock";
import type { RunLock } from "../../analytics/src/state/lock";
import { MANIFEST_KEY } from "../../analytics/src/state/manifest";
import { DirectoryStorage, S3Storage, s3ClientFromEnvironment } from "../../analytics/src/storage";
import type { Storage } from "../../analytics/src/storage";
import { SourceBucket, product, run, tempDir, u } from "./helpers/fixtures";
import { startConditionalPutProxy } from "./storage/conditional-put-proxy";
import type { ConditionalPutProxy } from "./storage/conditional-put-proxy";
import { startS3Server } from "./storage/s3-server";
import type { S3TestServer } from "./storage/s3-server";

let server: S3TestServer;
let proxy: ConditionalPutProxy;
let counter = 0;

beforeAll(async () => {
  server = await startS3Server(["locks"]);
  proxy = await startConditionalPutProxy(server.endpoint, server.client());
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});

const backends: [string, () => Promise<Storage>][] = [
  ["directory", async () => new DirectoryStorage(await tempDir("lock-"))],
  [
    "s3",
    async () =>
      new S3Storage(
        { bucket: "locks", prefix: `run-${++counter}/` },
        { client: s3ClientFromEnvironment({ ...server.env, AWS_ENDPOINT_URL: proxy.endpoint }) },
      ),
  ],
];

/** A lock body as another run writes it; `refreshedAt` omitted like a lock of an older version. */
const otherLock = (runId: string, refreshedAt: Date, host = `elsewhere-${os.hostname()}`) =>
  JSON.stringify({ runId, host, pid: 4242, startedAt: refreshedAt.toISOString() });

const STALE_MS = 60_000;
const longAgo = () => new Date(Date.now() - 2 * STALE_MS);

/**
 * A contender's view of the storage: its first read of the lock returns, then waits for `readsDone`
 * (so every contender has read the same stale lock); after that read its writes wait for `writesAfter`.
 */
function contender(
  inner: Storage,
  readsDone: Promise<void>,
  onRead: () => void,
  writesAfter: Promise<unknown>,
) {
  let read = false;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const isRead = prop === "readText" || prop === "readVersioned";
        if (isRead && args[0] === LOCK_KEY && !read) {
          const result: unknown = await value.apply(target, args);
          read = true;
          onRead();
          await readsDone;
          return result;
        }
        if (read && !isRead) await writesAfter;
        return value.apply(target, args);
      };
    },
  });
}

function barrier(parties: number): { done: Promise<void>; arrive: () => void } {
  let arrived = 0;
  let open: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, arrive: () => (++arrived === parties ? open() : undefined) };
}

async function holderOf(storage: Storage): Promise<string | undefined> {
  return parseLockBody(await storage.readText(LOCK_KEY))?.runId;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error("timed out");
}

describe.each(backends)("the run lock on %s storage", (_name, open) => {
  it("of two runs that find the same stale lock, exactly one takes it over", async () => {
    const storage = await open();
    await storage.writeText(LOCK_KEY, otherLock("dead-run", longAgo()));
    const reads = barrier(2);
    const stale: string[] = [];
    const options = { staleMs: STALE_MS, onStale: (reason: string) => stale.push(reason) };
    // Both read the stale lock; then A writes first, and B only once A is done: the interleaving in which
    // a delete-and-recreate takeover lets B delete A's fresh lock and both believe they hold it.
    const a = acquireLock(contender(storage, reads.done, reads.arrive, Promise.resolve()), "run-a", options);
    const aSettled = a.then(
      () => undefined,
      () => undefined,
    );
    const b = acquireLock(contender(storage, reads.done, reads.arrive, aSettled), "run-b", options);
    const [aResult, bResult] = await Promise.allSettled([a, b]);
    expect(aResult.status).toBe("fulfilled");
    expect(bResult.status).toBe("rejected");
    const error = (bResult as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(Scd2Error);
    expect(error.message).toMatch(/_state\/lock is held by run run-a \(host .+, pid \d+, since .+\)/);
    expect(stale).toEqual(["it was not refreshed for 1 minutes", "it was not refreshed for 1 minutes"]);
    expect(await holderOf(storage)).toBe("run-a");
    const held = (aResult as PromiseFulfilledResult<RunLock>).value;
    await expect(held.confirm()).resolves.toBeUndefined();
    await held.release();
    expect(await storage.readText(LOCK_KEY)).toBeUndefined();
  });

  it("a takeover loses to the holder's refresh that lands first", async () => {
    const storage = await open();
    const holder = await acquireLock(storage, "holder", { staleMs: 200, heartbeatMs: 60_000 });
    // The holder looks stale (it was paused), the contender reads it; the holder refreshes first.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const reads = barrier(1);
    let refreshed: () => void = () => undefined;
    const refreshDone = new Promise<void>((resolve) => (refreshed = resolve));
    const contest = acquireLock(contender(storage, reads.done, reads.arrive, refreshDone), "thief", {
      staleMs: 200,
    });
    await reads.done;
    await (holder as unknown as { refresh(): Promise<void> }).refresh();
    refreshed();
    await expect(contest).rejects.toThrow(/_state\/lock is held by run holder /);
    await expect(holder.confirm()).resolves.toBeUndefined();
    await holder.release();
    expect(await storage.readText(LOCK_KEY)).toBeUndefined();
  });

  it("a live run refreshes its lock, so it is not taken over after the stale limit", async () => {
    const storage = await open();
    const holder = await acquireLock(storage, "long-run", { staleMs: 1500, heartbeatMs: 100 });
    const first = parseLockBody(await storage.readText(LOCK_KEY))!;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await expect(acquireLock(storage, "second", { staleMs: 1500 })).rejects.toThrow(
      /_state\/lock is held by run long-run /,
    );
    const later = parseLockBody(await storage.readText(LOCK_KEY))!;
    expect(later.startedAt).toBe(first.startedAt);
    expect(Date.parse(later.refreshedAt!)).toBeGreaterThan(Date.parse(first.refreshedAt!));
    await expect(holder.confirm()).resolves.toBeUndefined();
    await holder.release();
    expect(await storage.readText(LOCK_KEY)).toBeUndefined();
  });

  it("a run whose lock was taken over notices at its next refresh, stops, and leaves the new lock", async () => {
    const storage = await open();
    const lost: string[] = [];
    const holder = await acquireLock(storage, "paused-run", {
      staleMs: STALE_MS,
      heartbeatMs: 50,
      onLost: (error) => lost.push(error.message),
    });
    const thief = otherLock("new-run", new Date());
    await storage.writeText(LOCK_KEY, thief);
    await until(() => holder.lost !== undefined);
    const message =
      `${storage.uri}/_state/lock: run paused-run lost its run lock (it is now held by run new-run ` +
      `(host elsewhere-${os.hostname()}, pid 4242, since ${JSON.parse(thief).startedAt as string})); ` +
      `it stopped before writing anything more to this output. Run again once the other run is done.`;
    expect(lost).toEqual([message]);
    await expect(holder.confirm()).rejects.toThrow(message);
    await holder.release();
    expect(await storage.readText(LOCK_KEY)).toBe(thief);
  });

  it("confirm() finds a deleted lock lost, and release() does not recreate or delete anything", async () => {
    const storage = await open();
    const holder = await acquireLock(storage, "run-x", { staleMs: STALE_MS, heartbeatMs: 60_000 });
    await storage.delete([LOCK_KEY]);
    await expect(holder.confirm()).rejects.toThrow(/run run-x lost its run lock \(it was deleted\)/);
    const next = await acquireLock(storage, "run-y", { staleMs: STALE_MS, heartbeatMs: 60_000 });
    await holder.release();
    expect(await holderOf(storage)).toBe("run-y");
    await next.release();
  });
});

describe("a job that loses its run lock", () => {
  it("stops with an Scd2Error before committing, and leaves the other run's lock", async () => {
    const source = await SourceBucket.create();
    await source.parquet("commerce.products", 0, 0, [u(100, 1, product(1, "a"))]);
    const output = await tempDir("lock-job-");
    const thief = otherLock("new-run", new Date());
    const outcome = await run(source.root, output, {
      // Another run takes the lock over while this one reads its files.
      onProgress: (event) => {
        if (event.type === "table-started") writeFileSync(path.join(output, LOCK_KEY), thief);
      },
    }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(Scd2Error);
    expect((outcome as Error).message).toMatch(
      /_state\/lock: run \S+ lost its run lock \(it is now held by run new-run .*\); it stopped before writing/,
    );
    await expect(fs.access(path.join(output, MANIFEST_KEY))).rejects.toThrow();
    expect(await fs.readFile(path.join(output, LOCK_KEY), "utf8")).toBe(thief);
    expect(await fs.readdir(path.join(output))).toEqual(["_state"]);
  });
});
