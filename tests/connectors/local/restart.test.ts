/**
 * At-least-once across a crash: `cdc-connect-local` is SIGKILLed mid-stream and restarted; every
 * change PostgreSQL decoded must be in the bucket, and any duplicate carries the same `__lsn`.
 */
import { describe, expect, it } from "vitest";
import { parseLsn } from "../../../connectors/local/lsn";
import {
  captureSetup,
  createOracle,
  exitCode,
  readParquet,
  runtimeFor,
  startCli,
  topicFiles,
  waitFor,
  writeConfigFiles,
  useHarness,
} from "./harness";

const ROWS = 100;
const TRANSACTIONS = 30;

describe("kill and restart", () => {
  const h = useHarness();

  it("loses nothing when the runtime is SIGKILLed mid-stream", async () => {
    await h.db.query("CREATE TABLE public.counter (id int PRIMARY KEY, n int NOT NULL)");
    await h.db.query(`INSERT INTO public.counter SELECT i, 0 FROM generate_series(1, ${ROWS}) i`);
    const setup = await captureSetup(h, ["public.counter"], {
      source: { "slot.retry.delay.ms": "250", "slot.max.retries": "40" },
      sink: { "flush.size": "150", "rotate.schedule.interval.ms": "2000", timezone: "UTC" },
    });
    const oracle = await createOracle(h);
    const { sourceFile, sinkFile } = writeConfigFiles(h, setup);
    const update = (t: number) => h.db.query(`UPDATE public.counter SET n = ${t}`);
    const confirmed = async () => {
      const slot = await h.db.query<{ lsn: string }>(
        "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
        [setup.slot],
      );
      return parseLsn(slot.rows[0]!.lsn);
    };
    const created = await confirmed();

    let child = await startCli(sourceFile, sinkFile, setup.bucketRoot);
    for (let t = 1; t <= 5; t += 1) await update(t);
    await waitFor(() => topicFiles(setup.bucketRoot, "cdc.public.counter").length >= 3);
    // Files are renamed into place before any offset is stored: killed before the first source
    // offset (snapshot_completed) is stored, a restart snapshots again, as documented. The slot is
    // acknowledged only once that offset is stored, so kill mid-stream after it has moved.
    await waitFor(async () => (await confirmed()) > created, 60_000);
    // Kill while records are in flight and in the open file: they were never acknowledged.
    for (let t = 6; t <= 10; t += 1) await update(t);
    const killed = exitCode(child);
    child.kill("SIGKILL");
    await killed;
    for (let t = 11; t <= 20; t += 1) await update(t);
    child = await startCli(sourceFile, sinkFile, setup.bucketRoot);
    for (let t = 21; t <= TRANSACTIONS; t += 1) await update(t);
    const end = await h.db.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    await waitFor(async () => (await confirmed()) >= parseLsn(end.rows[0]!.lsn), 60_000);
    const stopped = exitCode(child);
    child.kill("SIGTERM");
    expect(await stopped).toBe(0);

    const files = topicFiles(setup.bucketRoot, "cdc.public.counter");
    const starts = files.map((f) => Number(/\+(\d{10})\./.exec(f)![1]));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const { rows } = await readParquet(files, "id, n, __op, __lsn, __sequence");
    const seen = new Map<string, string>();
    for (const row of rows) {
      const key = `${row.__lsn as string}/${row.id as number}`;
      // A re-delivered change is identical: same key, same LSN, same values, the same change LSN in
      // __sequence. Its first element (the last commit before it) is restored from the stored offset,
      // as Debezium restores lastCommitLsn from its last flushed offset, so it may differ on a replay.
      const sequence = JSON.parse(row.__sequence as string) as [string | null, string];
      expect(sequence[1]).toBe(row.__lsn);
      const content = JSON.stringify({ ...row, __sequence: sequence[1] });
      expect(seen.get(key) ?? content).toBe(content);
      seen.set(key, content);
    }
    const expected = (await oracle()).flatMap((tx) => tx.changes.map((c) => c.lsn));
    expect(expected).toHaveLength(ROWS * TRANSACTIONS);
    const captured = new Set(rows.filter((r) => r.__op === "u").map((r) => r.__lsn as string));
    expect(expected.filter((lsn) => !captured.has(lsn))).toEqual([]);
    expect(rows.filter((r) => r.__op === "r")).toHaveLength(ROWS);
  });

  it("does not snapshot again after a clean stop, even when the snapshot and later changes landed in one file", async () => {
    await h.db.query("CREATE TABLE public.seeded (id int PRIMARY KEY, n int NOT NULL)");
    await h.db.query("INSERT INTO public.seeded SELECT i, 0 FROM generate_series(1, 20) i");
    const setup = await captureSetup(h, ["public.seeded"]);
    const first = await runtimeFor(setup);
    expect(first.stats().snapshotRecords).toBe(20);
    await h.db.query("UPDATE public.seeded SET n = 1 WHERE id = 1");
    await waitFor(() => first.stats().records === 21);
    // flush.size is 1000: one file commits the snapshot (transaction 0) and the update together.
    await first.stop();
    expect(topicFiles(setup.bucketRoot, "cdc.public.seeded")).toHaveLength(1);

    const second = await runtimeFor(setup);
    expect(second.stats().snapshotRecords).toBe(0);
    await h.db.query("UPDATE public.seeded SET n = 2 WHERE id = 2");
    await waitFor(() => second.stats().records === 1);
    await second.stop();
    const { rows } = await readParquet(topicFiles(setup.bucketRoot, "cdc.public.seeded"), "id, n, __op");
    expect(rows.map((r) => `${r.__op as string}${r.id as number}=${r.n as number}`)).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `r${i + 1}=0`),
      "u1=1",
      "u2=2",
    ]);
  });
});
