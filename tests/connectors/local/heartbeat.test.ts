/**
 * What the unwrap SMT passes or drops besides row changes: heartbeat records (on their own topic,
 * written only if the sink subscribes to it) and truncates (dropped whatever skipped.operations says).
 */
import { describe, expect, it } from "vitest";
import { parseLsn } from "../../../connectors/local/lsn";
import {
  captureSetup,
  createOracle,
  readParquet,
  runtimeFor,
  topicFiles,
  waitFor,
  useHarness,
} from "./harness";

describe("heartbeats and truncates", () => {
  const h = useHarness();

  it("heartbeats move the slot while the captured table is idle and land on the heartbeat topic", async () => {
    await h.db.query("CREATE TABLE public.hb_data (id int PRIMARY KEY)");
    await h.db.query("CREATE TABLE public.hb_beat (id int PRIMARY KEY, beat_at timestamptz NOT NULL)");
    const setup = await captureSetup(h, ["public.hb_data"], {
      source: {
        "heartbeat.interval.ms": "100",
        "heartbeat.action.query":
          "INSERT INTO public.hb_beat VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at",
      },
      sink: { topics: "cdc.public.hb_data,__debezium-heartbeat.cdc" },
    });
    // In the publication (so its changes move the slot), not in table.include.list (so not captured).
    await h.db.query(`ALTER PUBLICATION ${setup.source["publication.name"]} ADD TABLE public.hb_beat`);
    const before = await h.db.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    const startedAt = Date.now();
    const runtime = await runtimeFor(setup);
    const confirmed = async () => {
      const slot = await h.db.query<{ lsn: string }>(
        "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
        [setup.slot],
      );
      return parseLsn(slot.rows[0]!.lsn);
    };
    await waitFor(async () => (await confirmed()) > parseLsn(before.rows[0]!.lsn));
    await waitFor(() => runtime.stats().records >= 3);
    await runtime.stop();
    const stoppedAt = Date.now();

    expect(topicFiles(setup.bucketRoot, "cdc.public.hb_data")).toEqual([]);
    expect(topicFiles(setup.bucketRoot, "cdc.public.hb_beat")).toEqual([]);
    const { rows, schemas } = await readParquet(topicFiles(setup.bucketRoot, "__debezium-heartbeat.cdc"));
    expect(rows.length).toBe(runtime.stats().records);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(["ts_ms"]);
      expect(Number(row.ts_ms)).toBeGreaterThanOrEqual(startedAt);
      expect(Number(row.ts_ms)).toBeLessThanOrEqual(stoppedAt);
    }
    expect(schemas[0]).toEqual({
      type: "record",
      name: "Heartbeat",
      namespace: "io.debezium.connector.common",
      fields: [{ name: "ts_ms", type: "long" }],
      "connect.version": 1,
      "connect.name": "io.debezium.connector.common.Heartbeat",
    });
  });

  it.each(["t", "none"])(
    "drops a TRUNCATE (skipped.operations=%s); the next change's sequence starts at its commit",
    async (skipped) => {
      const table = `public.trunc_${skipped}`;
      await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
      await h.db.query(`INSERT INTO ${table} VALUES (1), (2)`);
      const setup = await captureSetup(h, [table], { source: { "skipped.operations": skipped } });
      const oracle = await createOracle(h);
      const runtime = await runtimeFor(setup);
      await h.db.query(`TRUNCATE ${table}`);
      await h.db.query(`INSERT INTO ${table} VALUES (3)`);
      await waitFor(() => runtime.stats().transactions >= 2);
      await runtime.stop();
      const [truncate, insert] = await oracle();
      expect(truncate!.changes).toEqual([]);
      const { rows } = await readParquet(
        topicFiles(setup.bucketRoot, `cdc.${table}`),
        "id, __op, __lsn, __sequence",
      );
      const snapshot = rows[0]!.__lsn as string;
      const lsn = insert!.changes[0]!.lsn;
      expect(rows).toEqual([
        { id: 1, __op: "r", __lsn: snapshot, __sequence: JSON.stringify([null, snapshot]) },
        { id: 2, __op: "r", __lsn: snapshot, __sequence: JSON.stringify([null, snapshot]) },
        { id: 3, __op: "c", __lsn: lsn, __sequence: JSON.stringify([truncate!.commitLsn, lsn]) },
      ]);
    },
  );
});
