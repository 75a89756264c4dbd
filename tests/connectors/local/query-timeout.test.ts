/**
 * `database.query.timeout.ms` on a real PostgreSQL: a snapshot blocked by a lock another session holds
 * fails the start-up within the limit, naming the server and the key, and the server cancelled the
 * query (no backend of the runtime is left waiting on the lock once the runtime gave up).
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { captureSetup, runtimeFor, startOutcome, useHarness } from "./harness";

const QUERY_TIMEOUT_MS = 1500;

describe("database.query.timeout.ms", () => {
  const h = useHarness();

  it("fails a snapshot blocked by a lock within the limit, and the server cancelled the query", async () => {
    await h.db.query("CREATE TABLE public.locked (id int PRIMARY KEY)");
    await h.db.query("INSERT INTO public.locked VALUES (1), (2)");
    const setup = await captureSetup(h, ["public.locked"], {
      source: { "database.query.timeout.ms": String(QUERY_TIMEOUT_MS) },
    });
    const holder = new pg.Client(h.pg.connectionString);
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE public.locked IN ACCESS EXCLUSIVE MODE");
      const startedAt = Date.now();
      const outcome = await startOutcome(setup);
      const waited = Date.now() - startedAt;
      expect(outcome).toBe(
        `PostgreSQL at 127.0.0.1:${h.pg.port} did not answer a query within 1.5 s ` +
          "(database.query.timeout.ms = 1500): canceling statement due to statement timeout",
      );
      expect(waited).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS);
      expect(waited).toBeLessThan(QUERY_TIMEOUT_MS + 10_000);
      const waiting = await h.db.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
      );
      expect(Number(waiting.rows[0]!.n)).toBe(0);
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
  });

  it("0 means no limit, as in Debezium: a snapshot waits for the lock; a negative value is refused", async () => {
    await h.db.query("CREATE TABLE public.unlimited (id int PRIMARY KEY)");
    await h.db.query("INSERT INTO public.unlimited VALUES (7)");
    const setup = await captureSetup(h, ["public.unlimited"], {
      source: { "database.query.timeout.ms": "0" },
    });
    const holder = new pg.Client(h.pg.connectionString);
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE public.unlimited IN ACCESS EXCLUSIVE MODE");
    const release = setTimeout(() => void holder.query("COMMIT").then(() => holder.end()), 2500);
    try {
      const runtime = await runtimeFor(setup);
      const stats = runtime.stats();
      await runtime.stop();
      expect(stats.snapshotRecords).toBe(1);
    } finally {
      clearTimeout(release);
    }
    const negative = await captureSetup(h, ["public.unlimited"], {
      source: { "database.query.timeout.ms": "-1" },
    });
    expect(await startOutcome(negative)).toBe(
      `${negative.source.name}: config key "database.query.timeout.ms" = "-1" must be an integer >= 0`,
    );
  });
});
