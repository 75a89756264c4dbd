/**
 * A failure while a transaction is processed stores no offset past it: the runtime stops acknowledging,
 * so the change that failed (and its transaction) is read again after the restart, never skipped. A
 * sink that fails (a file it cannot write, an observer that throws) fails the runtime when it happens.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ConnectorRuntime, UnwrappedRecord } from "../../../connectors/local";
import { offsetFilePath } from "../../../connectors/local/durable";
import { captureSetup, runtimeFor, topicFiles, useHarness, waitFor } from "./harness";

describe("a failure in the middle of a transaction", () => {
  const h = useHarness();

  it("stores no offset past the transaction, and the restart delivers all of it", async () => {
    await h.db.query("CREATE TABLE public.fragile (id int PRIMARY KEY)");
    await h.db.query("INSERT INTO public.fragile VALUES (0)");
    // flush.size 1: each record is in a durable file at once, so the transaction becomes durable by itself.
    const setup = await captureSetup(h, ["public.fragile"], { sink: { "flush.size": "1" } });
    const offsets = offsetFilePath(setup.bucketRoot, "source", setup.source.name!);
    const start = (onRecord: (record: UnwrappedRecord) => void) => runtimeFor(setup, { onRecord });

    const firstIds: number[] = [];
    const failure = new Error("the consumer of id 2 failed");
    let failed: Error | undefined;
    const first = await runtimeFor(setup, {
      onError: (err) => (failed = err),
      onRecord: (record) => {
        const id = (record.value as { id: number }).id;
        if (id === 2) throw failure;
        firstIds.push(id);
      },
    });
    await first.flush();
    await waitFor(() => existsSync(offsets));
    const afterSnapshot = readFileSync(offsets, "utf8");
    await h.db.query("INSERT INTO public.fragile VALUES (1), (2), (3)");
    await waitFor(() => failed !== undefined);
    // The transaction is committed and each record it delivered is in a durable file.
    await waitFor(() => first.stats().transactions >= 1 && first.stats().pendingRecords === 0);
    await expect(first.stop()).rejects.toThrow("the consumer of id 2 failed");
    // The change after the failed one still reaches the sink (the runtime fails, it does not pause), but
    // nothing after the failure is stored as done.
    expect(firstIds).toEqual([0, 1, 3]);
    expect(readFileSync(offsets, "utf8")).toBe(afterSnapshot);

    const secondIds: number[] = [];
    const second = await start((record) => secondIds.push((record.value as { id: number }).id));
    try {
      await waitFor(() => secondIds.length >= 3);
      await second.flush();
    } finally {
      await second.stop();
    }
    expect(secondIds).toEqual([1, 2, 3]);
  });

  it("an onFileDurable observer that throws fails the sink: no offset is stored for that file or after it", async () => {
    await h.db.query("CREATE TABLE public.watched (id int PRIMARY KEY)");
    const setup = await captureSetup(h, ["public.watched"], {
      source: { "snapshot.mode": "no_data" },
      sink: { "flush.size": "1" },
    });
    const sinkOffsets = offsetFilePath(setup.bucketRoot, "sink", setup.sink.name!);
    let reports = 0;
    let failed: Error | undefined;
    const runtime = await runtimeFor(setup, {
      onError: (err) => (failed = err),
      onFileDurable: () => {
        reports += 1;
        throw new Error("the observer broke");
      },
    });
    await h.db.query("INSERT INTO public.watched VALUES (1)");
    await waitFor(() => reports === 1);
    await h.db.query("INSERT INTO public.watched VALUES (2)");
    await waitFor(() => failed !== undefined);
    const message = `sink ${setup.sink.name}: the onFileDurable observer failed: the observer broke`;
    expect(failed?.message).toBe(message);
    await expect(runtime.stop()).rejects.toThrow(message);
    expect(reports).toBe(1);
    expect(existsSync(sinkOffsets)).toBe(false);
  });

  it("a file DuckDB cannot write fails the runtime at once, with no later record: no file, temp file or offset of it is left", async () => {
    await h.db.query("CREATE TABLE public.far (id int PRIMARY KEY, at timestamp)");
    const setup = await captureSetup(h, ["public.far"], {
      // connect mode: a timestamp is a Parquet TIMESTAMP_MS, which DuckDB holds only up to 294247.
      source: { "snapshot.mode": "no_data", "time.precision.mode": "connect" },
      sink: { "flush.size": "1" },
    });
    let failed: Error | undefined;
    const runtime = await runtimeFor(setup, { onError: (err) => (failed = err) });
    await h.db.query("INSERT INTO public.far VALUES (1, '2026-12-07 10:00:00')");
    await waitFor(() => topicFiles(setup.bucketRoot, "cdc.public.far").length === 1);
    // The last change for a while: the failure must surface without another record reaching the sink.
    await h.db.query("INSERT INTO public.far VALUES (2, '294270-01-01 00:00:00')");
    await waitFor(() => failed !== undefined);
    const path = join(setup.bucketRoot, "bucket", "cdc_data", "cdc.public.far", "partition=0");
    expect(failed?.message).toContain(
      `sink ${setup.sink.name}: writing ${join(path, "cdc.public.far+0+0000000001.snappy.parquet")} failed: `,
    );
    await expect(runtime.stop()).rejects.toThrow(failed!.message);
    expect(readdirSync(path)).toEqual(["cdc.public.far+0+0000000000.snappy.parquet"]);
    expect(readdirSync(join(setup.bucketRoot, ".connect-tmp"))).toEqual([]);
    const sinkOffsets = offsetFilePath(setup.bucketRoot, "sink", setup.sink.name!);
    expect(JSON.parse(readFileSync(sinkOffsets, "utf8"))).toEqual({ "cdc.public.far": 1 });
  });

  it("a file that fails while a stop flushes it: a stop asked for by onError waits for the first to end", async () => {
    await h.db.query("CREATE TABLE public.late (id int PRIMARY KEY, at timestamp)");
    const setup = await captureSetup(h, ["public.late"], {
      source: { "snapshot.mode": "no_data", "time.precision.mode": "connect" },
      sink: { "flush.size": "1000" },
    });
    const settled: string[] = [];
    let second: Promise<void> | undefined;
    const runtime: ConnectorRuntime = await runtimeFor(setup, {
      // What the CLI's handler does: stop, then exit once stopped.
      onError: () => {
        second = runtime.stop().then(() => void settled.push("the onError stop resolved"));
      },
    });
    await h.db.query("INSERT INTO public.late VALUES (1, '294270-01-01 00:00:00')");
    await waitFor(() => runtime.stats().records === 1);
    // The file is still open: the stop's flush writes it, and the write fails.
    const first = runtime.stop().catch((err: Error) => void settled.push(`the stop failed: ${err.message}`));
    await first;
    await second;
    expect(settled).toHaveLength(2);
    expect(settled[0]).toMatch(new RegExp(`^the stop failed: sink ${setup.sink.name}: writing .* failed: `));
    expect(settled[1]).toBe("the onError stop resolved");
  });
});
