/** data-contract.md §4: file rotation by flush.size, by wall clock, and on a schema change. */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { buildSinkConnector } from "../../../connectors/config";
import { parseLsn } from "../../../connectors/local/lsn";
import type { DurableFile } from "../../../connectors/local/sink";
import { captureSetup, readParquet, runtimeFor, topicFiles, waitFor, useHarness } from "./harness";

describe("S3 sink rotation", () => {
  const h = useHarness();

  it("commits a file every flush.size records and a quiet remainder on rotate.schedule.interval.ms", async () => {
    await h.db.query("CREATE TABLE public.rot (id int PRIMARY KEY)");
    const setup = await captureSetup(h, ["public.rot"], {
      sink: { "flush.size": "2", "rotate.schedule.interval.ms": "300", timezone: "UTC" },
    });
    // Each file as the runtime reports it durable, and whether it was in place by then.
    const reported: (DurableFile & { inPlace: boolean })[] = [];
    const runtime = await runtimeFor(setup, {
      onFileDurable: (file) =>
        reported.push({ ...file, inPlace: existsSync(join(setup.bucketRoot, "bucket", file.key)) }),
    });
    for (let id = 1; id <= 5; id += 1) await h.db.query(`INSERT INTO public.rot VALUES (${id})`);
    // No stop, no flush: the wall-clock rotation must land the fifth record by itself.
    await waitFor(() => topicFiles(setup.bucketRoot, "cdc.public.rot").length === 3);
    const files = topicFiles(setup.bucketRoot, "cdc.public.rot");
    expect(files.map((f) => basename(f))).toEqual([
      "cdc.public.rot+0+0000000000.snappy.parquet",
      "cdc.public.rot+0+0000000002.snappy.parquet",
      "cdc.public.rot+0+0000000004.snappy.parquet",
    ]);
    const { rows } = await readParquet(files, "id");
    expect(rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }]);
    expect(reported).toEqual(
      [
        ["cdc.public.rot+0+0000000000.snappy.parquet", 2],
        ["cdc.public.rot+0+0000000002.snappy.parquet", 2],
        ["cdc.public.rot+0+0000000004.snappy.parquet", 1],
      ].map(([name, records]) => ({
        key: `cdc_data/cdc.public.rot/partition=0/${name}`,
        topic: "cdc.public.rot",
        records,
        inPlace: true,
      })),
    );
    await waitFor(() => runtime.stats().pendingRecords === 0);
    const slot = await h.db.query<{ confirmed: string; current: string }>(
      "SELECT confirmed_flush_lsn::text AS confirmed, pg_current_wal_lsn()::text AS current FROM pg_replication_slots WHERE slot_name = $1",
      [setup.slot],
    );
    // The slot is confirmed exactly up to what the runtime acknowledged (the protocol sends LSN + 1).
    expect(parseLsn(slot.rows[0]!.confirmed)).toBe(parseLsn(runtime.stats().acknowledgedLsn!) + 1n);
    await runtime.stop();
  });

  it("lands a quiet remainder at the schedule of a builder config with scheduledRotationMs", async () => {
    await h.db.query("CREATE TABLE public.quiet (id int PRIMARY KEY)");
    const minute = 60_000;
    const { config } = buildSinkConnector({
      bucket: "bucket",
      region: "eu-west-1",
      tables: ["public.quiet"],
      flushSize: 2,
      scheduledRotationMs: minute,
    });
    expect(config).toMatchObject({ "rotate.schedule.interval.ms": "60000", timezone: "UTC" });
    const setup = await captureSetup(h, ["public.quiet"], { sink: config });
    // Only Date is faked (it keeps moving with real time): the runtime's real timer checks the
    // schedule every second, and the test jumps the clock instead of waiting a minute.
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    try {
      vi.setSystemTime(Math.ceil(Date.now() / minute) * minute + 1_000);
      const runtime = await runtimeFor(setup);
      for (let id = 1; id <= 3; id += 1) await h.db.query(`INSERT INTO public.quiet VALUES (${id})`);
      await waitFor(
        () => runtime.stats().records === 3 && topicFiles(setup.bucketRoot, "cdc.public.quiet").length === 1,
      );
      // Two ticks later the third record is still open: the next rotation is at the next full minute.
      await new Promise((r) => setTimeout(r, 2_100));
      expect(topicFiles(setup.bucketRoot, "cdc.public.quiet")).toHaveLength(1);
      vi.setSystemTime(Date.now() + minute);
      await waitFor(() => topicFiles(setup.bucketRoot, "cdc.public.quiet").length === 2);
      const files = topicFiles(setup.bucketRoot, "cdc.public.quiet");
      expect(files.map((f) => basename(f))).toEqual([
        "cdc.public.quiet+0+0000000000.snappy.parquet",
        "cdc.public.quiet+0+0000000002.snappy.parquet",
      ]);
      expect((await readParquet(files, "id")).rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      await runtime.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("starts a new file when the table's schema changes", async () => {
    await h.db.query("CREATE TABLE public.evolve (id int PRIMARY KEY)");
    const setup = await captureSetup(h, ["public.evolve"], { sink: { "flush.size": "100" } });
    const runtime = await runtimeFor(setup);
    await h.db.query("INSERT INTO public.evolve VALUES (1)");
    await h.db.query("ALTER TABLE public.evolve ADD COLUMN note text");
    await h.db.query("INSERT INTO public.evolve VALUES (2, 'new')");
    await waitFor(() => runtime.stats().transactions >= 2);
    await runtime.stop();
    const files = topicFiles(setup.bucketRoot, "cdc.public.evolve");
    expect(files.map((f) => basename(f))).toEqual([
      "cdc.public.evolve+0+0000000000.snappy.parquet",
      "cdc.public.evolve+0+0000000001.snappy.parquet",
    ]);
    const first = await readParquet([files[0]!], "id, __op");
    const second = await readParquet([files[1]!], "id, note, __op");
    expect([first.rows, second.rows]).toEqual([[{ id: 1, __op: "c" }], [{ id: 2, note: "new", __op: "c" }]]);
    // The added column is an optional field of the new schema; the older file keeps the old one.
    const fields = (schema: unknown) => (schema as { fields: unknown[] }).fields.slice(0, -6);
    expect([fields(first.schemas[0]), fields(second.schemas[0])]).toEqual([
      [
        { name: "id", type: "int" },
        { name: "__deleted", type: ["null", "string"], default: null },
      ],
      [
        { name: "id", type: "int" },
        { name: "note", type: ["null", "string"], default: null },
        { name: "__deleted", type: ["null", "string"], default: null },
      ],
    ]);
  });

  it("fails the sink on a null value with behavior.on.null.values=fail, as the S3 sink does", async () => {
    await h.db.query("CREATE TABLE public.tomb (id int PRIMARY KEY)");
    await h.db.query("INSERT INTO public.tomb VALUES (1)");
    const setup = await captureSetup(h, ["public.tomb"], {
      source: { "transforms.unwrap.delete.tombstone.handling.mode": "tombstone" },
      sink: { "behavior.on.null.values": "fail" },
    });
    const runtime = await runtimeFor(setup);
    await h.db.query("DELETE FROM public.tomb WHERE id = 1");
    await waitFor(() => runtime.stats().transactions >= 1);
    await expect(runtime.stop()).rejects.toThrow(
      /null value \(tombstone\) at cdc.public.tomb offset 1 and behavior.on.null.values=fail/,
    );
  });
});
