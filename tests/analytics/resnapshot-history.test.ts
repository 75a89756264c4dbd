// The SCD2 history through the local runtime (connectors/local) on an embedded PostgreSQL, against
// PostgreSQL's own account of every commit (a test_decoding slot, helpers/items-truth.ts):
// - a re-snapshot (execute-snapshot through the signalling table) while updates, deletes and inserts run
//   on the same keys, inside the chunk windows (a trigger on the watermark rows) and between them: the
//   history is the commits' history, in commit order, and the reads add no version;
// - a lost slot with updates, deletes and inserts in the gap, recovered with recoverLocalSlot (what
//   `cdc-resnapshot --recover-slot` runs) and reconciled (--reconcile with the window it reports): every
//   key's current version is PostgreSQL's, keys deleted in the gap are closed and flagged, and a key the
//   gap did not change has no new version.
import * as path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createTableSql, sourceSetup } from "../../connectors/database";
import { formatLsn } from "../../connectors/local/lsn";
import { recoverLocalSlot } from "../../connectors/signals/recover";
import type { SnapshotRequest } from "../../connectors/signals/request";
import { readLocalOffset, requestSnapshot, snapshotProgress } from "../../connectors/signals/request";
import { parseReconcile } from "../../analytics/src/scd2/reconcile";
import { captureSetup, runtimeFor, topicFiles, useHarness } from "../connectors/local/harness";
import { run, tempDir } from "./helpers/fixtures";
import type { ItemsCommit } from "./helpers/items-truth";
import { expectedItems, itemsHistory, itemsOracle, readsOf, recordsOf } from "./helpers/items-truth";

const SIGNALS = "public.cdc_signal";

/** Changes inside the chunk windows, in the connector's own watermark transactions. */
const WINDOW_TRIGGER = [
  "CREATE TABLE public.window_count (n int NOT NULL)",
  "INSERT INTO public.window_count VALUES (0)",
  `CREATE FUNCTION public.during_window() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE k int;
BEGIN
  IF NEW.type = 'snapshot-window-open' THEN
    UPDATE public.window_count SET n = n + 1 RETURNING n INTO k;
    UPDATE public.items SET n = n + 1000 WHERE id = 4 * k - 2;
    DELETE FROM public.items WHERE id = 4 * k + 3;
    INSERT INTO public.items VALUES (100 + k, k);
  ELSIF NEW.type = 'snapshot-window-close' THEN
    UPDATE public.items SET n = n + 5 WHERE id = 4 * (SELECT n FROM public.window_count) - 3;
  END IF;
  RETURN NULL;
END $$`,
  `CREATE TRIGGER during_window AFTER INSERT ON ${SIGNALS} FOR EACH ROW EXECUTE FUNCTION public.during_window()`,
];

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("SCD2 history through re-snapshots and a lost slot (local runtime)", () => {
  const h = useHarness();

  async function capture(table: string, rows: number) {
    await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL)`);
    await h.db.query(`INSERT INTO ${table} SELECT i, i FROM generate_series(1, ${rows}) i`);
    const signals = await h.db.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [SIGNALS]);
    if (signals.rows[0]!.t === null)
      await h.db.query(createTableSql(sourceSetup({ signalTable: SIGNALS }).signalTable));
    const setup = await captureSetup(h, [table, SIGNALS], {
      source: {
        "table.include.list": table,
        "snapshot.mode": "initial",
        "signal.data.collection": SIGNALS,
        "incremental.snapshot.chunk.size": "4",
      },
      sink: { topics: `cdc.${table}`, "flush.size": "1" },
    });
    const files = () => topicFiles(setup.bucketRoot, `cdc.${table}`);
    const offset = () => readLocalOffset(setup.bucketRoot, setup.source.name!);
    // A marker row inserted last: once its record is in a file, everything before it is too.
    const written = async (id: number) => {
      await h.db.query(`INSERT INTO ${table} VALUES ($1, $1)`, [id]);
      await until(`row ${id} is written`, async () => (await recordsOf(files(), id)) > 0);
    };
    const done = (request: SnapshotRequest) =>
      until("the snapshot is done", async () => snapshotProgress(request, await offset()) === "done");
    const job = async (options: Parameters<typeof run>[2] = {}) => {
      const output = await tempDir("scd2-resnapshot-");
      const summary = await run(path.join(setup.bucketRoot, "bucket", "cdc_data"), output, {
        tables: [{ table }],
        ...options,
      });
      return { summary: summary.tables[0]!, history: await itemsHistory(output, table.split(".")[1]!) };
    };
    return { setup, files, offset, done, job, written };
  }

  it("a re-snapshot while the same keys change: the history is PostgreSQL's commits, no read makes a version", async () => {
    const { setup, files, offset, done, job, written } = await capture("public.items", 24);
    for (const sql of WINDOW_TRIGGER) await h.db.query(sql);
    const truth = await itemsOracle(h.db, "truth_items", "public.items");
    const other = new pg.Client(h.pg.connectionString);
    await other.connect();
    const runtime = await runtimeFor(setup);
    try {
      await until("the initial snapshot is stored", async () => (await offset()) !== undefined);
      await other.query("UPDATE public.items SET n = 50 WHERE id = 1");
      await other.query("DELETE FROM public.items WHERE id = 9");
      await other.query("INSERT INTO public.items VALUES (30, 30)");
      const request = await requestSnapshot(h.db, SIGNALS, ["public.items"]);
      // Between the windows too: single-row transactions on the snapshot's keys until it is done.
      const next = random(7);
      let finished = false;
      const snapshot = done(request).finally(() => (finished = true));
      for (let i = 0; !finished && i < 400; i += 1) {
        const id = 1 + Math.floor(next() * 26);
        const roll = next();
        if (roll < 0.6) await other.query("UPDATE public.items SET n = n + 1 WHERE id = $1", [id]);
        else if (roll < 0.8) await other.query("DELETE FROM public.items WHERE id = $1", [id]);
        else await other.query("INSERT INTO public.items VALUES ($1, $1) ON CONFLICT (id) DO NOTHING", [id]);
      }
      await snapshot;
      await other.query("UPDATE public.items SET n = n + 7 WHERE id = 2");
      await written(999);
    } finally {
      await runtime.stop();
      await other.end();
      for (const sql of [
        "DROP TRIGGER during_window ON public.cdc_signal",
        "DROP FUNCTION public.during_window()",
      ])
        await h.db.query(sql);
    }
    const commits = await truth();
    const initial = await readsOf(files(), false);
    const incremental = await readsOf(files(), true);
    // The re-snapshot read keys while they changed: the case the job must place.
    expect(incremental.size).toBeGreaterThan(5);
    expect(initial.size).toBe(24);

    const { history, summary } = await job();
    expect(summary.inferredDeletes).toBeUndefined();
    expect(history).toEqual(
      expectedItems([
        { snapshot: { reads: initial, reconcile: false } },
        ...commits.map((commit) => ({ commit })),
      ]),
    );
  }, 180_000);

  it("a lost slot with changes in the gap: recovered, re-snapshotted and reconciled, every key is PostgreSQL's", async () => {
    const { setup, files, offset, done, job, written } = await capture("public.gap", 12);
    const truth = await itemsOracle(h.db, "truth_gap", "public.gap");
    let runtime = await runtimeFor(setup);
    await until("the initial snapshot is stored", async () => (await offset()) !== undefined);
    await h.db.query("UPDATE public.gap SET n = 50 WHERE id = 1");
    await h.db.query("DELETE FROM public.gap WHERE id = 2");
    await written(99);
    await runtime.stop();
    const before: ItemsCommit[] = await truth();

    // The gap: changes nothing streams, then the slot goes.
    const gap = [
      "UPDATE public.gap SET n = 300 WHERE id = 3",
      "UPDATE public.gap SET n = 400 WHERE id = 4",
      "DELETE FROM public.gap WHERE id = 5",
      "DELETE FROM public.gap WHERE id = 6",
      "INSERT INTO public.gap VALUES (13, 13), (14, 14)",
      "DELETE FROM public.gap WHERE id = 7",
      "INSERT INTO public.gap VALUES (7, 70)",
      // Deleted and inserted again as it was: nothing shows it, nothing is invented.
      "DELETE FROM public.gap WHERE id = 8",
      "INSERT INTO public.gap VALUES (8, 8)",
    ];
    for (const sql of gap) await h.db.query(sql);
    await h.db.query(`SELECT pg_drop_replication_slot('${setup.slot}')`);
    await truth();

    const recovery = await recoverLocalSlot(h.db, {
      slot: setup.slot,
      bucketRoot: setup.bucketRoot,
      connector: setup.source.name!,
    });
    expect(recovery.slotAction).toBe("created");
    runtime = await runtimeFor(setup);
    let window: string;
    try {
      const request = await requestSnapshot(h.db, SIGNALS, ["public.gap"]);
      await done(request);
      window = `public.gap:${formatLsn(request.before)}:${formatLsn(BigInt((await offset())!.lsn))}`;
      await h.db.query("UPDATE public.gap SET n = 90 WHERE id = 9");
      await h.db.query("DELETE FROM public.gap WHERE id = 10");
      await written(15);
    } finally {
      await runtime.stop();
    }
    const after = await truth();
    const reads = await readsOf(files(), true);
    expect([...reads.keys()]).toEqual([1, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 99]);

    const expected = expectedItems([
      { snapshot: { reads: await readsOf(files(), false), reconcile: false } },
      ...before.map((commit) => ({ commit })),
      { snapshot: { reads, reconcile: true } },
      ...after.map((commit) => ({ commit })),
    ]);
    const reconciled = await job({ reconcile: [parseReconcile(window)] });
    expect(reconciled.summary.inferredDeletes).toBe(2);
    expect(reconciled.history).toEqual(expected);
    // Spelled out: PostgreSQL's rows are the current versions; 5 and 6 closed as inferred deletes; the keys
    // the gap left alone (8 included) have their one version.
    const { rows } = await h.db.query<{ id: number; n: number }>("SELECT id, n FROM public.gap ORDER BY id");
    expect(reconciled.history.filter((v) => v.to === null).map(({ id, n }) => ({ id, n }))).toEqual(rows);
    expect(reconciled.history.filter((v) => v.inferred).map((v) => v.id)).toEqual([5, 6]);
    for (const id of [8, 11, 12]) expect(reconciled.history.filter((v) => v.id === id)).toHaveLength(1);

    // Without the window nothing is inferred: 5 and 6 would stay current for ever.
    const plain = await job();
    expect(plain.history.filter((v) => v.to === null).map((v) => v.id)).toEqual(
      expect.arrayContaining([5, 6]),
    );
    expect(plain.history.some((v) => v.inferred)).toBe(false);
  }, 180_000);
});
