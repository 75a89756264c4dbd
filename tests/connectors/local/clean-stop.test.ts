/**
 * A clean stop loses and duplicates nothing, whenever it comes: stopped while a transaction streams in, the
 * runtime takes that transaction whole and none after it, makes it durable, stores its offset; the restart
 * streams on from there. Seen in CI under load: `stop()` right after a change (the new-table comparison, the
 * NewTableSnapshots test) delivered records it never made durable, and the restart delivered them again.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createTableSql, sourceSetup } from "../../../connectors/database";
import type { ConnectorRuntime, UnwrappedRecord } from "../../../connectors/local";
import {
  captureSetup,
  createOracle,
  readParquet,
  runtimeFor,
  topicFiles,
  useHarness,
  waitFor,
} from "./harness";

const TOPIC = "cdc.public.batch";
const SIGNALS = "public.cdc_signal";
const QUERY_TIMEOUT_MS = 5000;
/** Rows of the first transaction: more than one file (flush.size 1000) and not a whole number of them. */
const ROWS = 2500;

const projection = (value: Record<string, unknown> | null) => {
  const v = value!;
  return `${v.__op as string}${v.id as number}=${v.n as number}`;
};

describe("a clean stop", () => {
  const h = useHarness();

  it("stopped while a transaction streams in: that transaction whole and durable, the rest once after the restart", async () => {
    await h.db.query("CREATE TABLE public.batch (id int PRIMARY KEY, n int NOT NULL)");
    const setup = await captureSetup(h, ["public.batch"], { source: { "snapshot.mode": "no_data" } });
    const oracle = await createOracle(h);
    const start = (seen: UnwrappedRecord[], onFirst?: () => void) =>
      runtimeFor(setup, {
        onRecord: (record) => {
          seen.push(record);
          if (seen.length === 1) onFirst?.();
        },
      });

    const firstSeen: UnwrappedRecord[] = [];
    let stopping: Promise<void> | undefined;
    // The stop is asked for as the first record of the transaction is taken, the rest of it still to come.
    const first: ConnectorRuntime = await start(firstSeen, () => {
      stopping = first.stop();
    });
    await h.db.query(`INSERT INTO public.batch SELECT i, 0 FROM generate_series(1, ${ROWS}) i`);
    await h.db.query("UPDATE public.batch SET n = 1 WHERE id = 1");
    await waitFor(() => stopping !== undefined);
    await stopping;

    const inserts = Array.from({ length: ROWS }, (_, i) => `c${i + 1}=0`);
    expect(firstSeen.map((r) => projection(r.value))).toEqual(inserts);
    const written = async () =>
      (await readParquet(topicFiles(setup.bucketRoot, TOPIC), "__op, id, n")).rows.map((r) => projection(r));
    expect(await written()).toEqual(inserts);
    const [insert, update] = await oracle();
    const offsets = join(setup.bucketRoot, ".connect-offsets", `source-${setup.source.name}.json`);
    expect(JSON.parse(readFileSync(offsets, "utf8"))).toMatchObject({ lsn_commit: insert!.commitLsn });

    const secondSeen: UnwrappedRecord[] = [];
    const second = await start(secondSeen);
    try {
      await h.db.query("UPDATE public.batch SET n = 2 WHERE id = 2");
      // The stream is in commit order: anything delivered again would come before this change.
      await waitFor(() => secondSeen.some((r) => r.value?.id === 2));
    } finally {
      await second.stop();
    }
    expect(secondSeen.map((r) => projection(r.value))).toEqual(["u1=1", "u2=2"]);
    // Each change's last commit is the one before it: the first run's last one, restored from its offset.
    const [later] = await oracle();
    expect(secondSeen.map((r) => JSON.parse(r.value!.__sequence as string) as unknown)).toEqual([
      [insert!.commitLsn, update!.changes[0]!.lsn],
      [update!.commitLsn, later!.changes[0]!.lsn],
    ]);
    expect(await written()).toEqual([...inserts, "u1=1", "u2=2"]);
  }, 120_000);

  it("a failure while it waits for the transaction's end: the stop goes on and fails with it", async () => {
    await h.db.query("CREATE TABLE public.locked (id int PRIMARY KEY)");
    await h.db.query("INSERT INTO public.locked VALUES (1)");
    await h.db.query(createTableSql(sourceSetup({ signalTable: SIGNALS }).signalTable));
    const setup = await captureSetup(h, ["public.locked", SIGNALS], {
      source: {
        "table.include.list": "public.locked",
        "snapshot.mode": "no_data",
        "signal.data.collection": SIGNALS,
        "database.query.timeout.ms": String(QUERY_TIMEOUT_MS),
      },
    });
    const errors: string[] = [];
    const runtime = await runtimeFor(setup, { onError: (err) => errors.push(err.message) });
    const holder = new pg.Client(h.pg.connectionString);
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE public.locked IN ACCESS EXCLUSIVE MODE");
      // The request's first chunk waits on the lock; the stream holds the rest of its transaction (the commit).
      await h.db.query(`INSERT INTO ${SIGNALS} VALUES ('req-1', 'execute-snapshot', $1)`, [
        JSON.stringify({ "data-collections": ["public.locked"], type: "incremental" }),
      ]);
      const waiting = async () =>
        Number(
          (
            await h.db.query<{ n: string }>(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
            )
          ).rows[0]!.n,
        );
      await waitFor(async () => (await waiting()) === 1);
      expect(errors).toEqual([]);
      const startedAt = Date.now();
      // The server's statement_timeout or pg's own query_timeout, the same limit: whichever fires first.
      await expect(runtime.stop()).rejects.toThrow(
        new RegExp(
          `^PostgreSQL at 127\\.0\\.0\\.1:${h.pg.port} did not answer a query within 5 s \\(database\\.query\\.timeout\\.ms = 5000\\): ` +
            "(canceling statement due to statement timeout|Query read timeout)$",
        ),
      );
      expect(Date.now() - startedAt).toBeLessThan(QUERY_TIMEOUT_MS + 10_000);
      // The transaction was never taken whole: no offset stored, the next run reads it again.
      expect(existsSync(join(setup.bucketRoot, ".connect-offsets", `source-${setup.source.name}.json`))).toBe(
        false,
      );
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
  }, 60_000);
});
