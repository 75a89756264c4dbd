/**
 * The ceiling consumer of `bench:capture` counts exactly the changes in its slot, across transactions of
 * inserts, updates and deletes, stops after the commit that completes them, and leaves the slot where it
 * was (so the runtime's measurement and the ceiling read the same changes).
 */
import { describe, expect, it } from "vitest";
import { measureWalsenderCeiling } from "../../bench/walsender-ceiling";
import { useHarness } from "../connectors/local/harness";

describe("the walsender ceiling consumer", () => {
  const h = useHarness();

  it("counts every insert, update and delete of the slot, and does not advance it", async () => {
    await h.db.query("CREATE TABLE public.ceiling (id int PRIMARY KEY, n int)");
    await h.db.query("CREATE PUBLICATION pub_ceiling FOR TABLE public.ceiling");
    await h.db.query("SELECT pg_create_logical_replication_slot('slot_ceiling', 'pgoutput')");
    await h.db.query("INSERT INTO public.ceiling SELECT i, 0 FROM generate_series(1, 500) i");
    await h.db.query("UPDATE public.ceiling SET n = 1 WHERE id <= 300");
    await h.db.query("DELETE FROM public.ceiling WHERE id > 450");
    const before = await h.db.query<{ lsn: string }>(
      "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'slot_ceiling'",
    );
    const result = await measureWalsenderCeiling(h.pg.connectionString, "slot_ceiling", "pub_ceiling", 850);
    expect(result.changes).toBe(850);
    expect(result.seconds).toBeGreaterThan(0);
    const peek = await h.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_logical_slot_peek_binary_changes('slot_ceiling', NULL, NULL, 'proto_version', '1', 'publication_names', 'pub_ceiling')",
    );
    // 850 changes, a BEGIN and a COMMIT per transaction, the table's RELATION once: all still in the slot.
    expect(Number(peek.rows[0]!.n)).toBe(850 + 3 * 2 + 1);
    const after = await h.db.query<{ lsn: string }>(
      "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'slot_ceiling'",
    );
    expect(after.rows[0]!.lsn).toBe(before.rows[0]!.lsn);
  });

  it("fails with the server's message when the slot does not exist", async () => {
    await expect(
      measureWalsenderCeiling(h.pg.connectionString, "no_such_slot", "pub_ceiling", 1),
    ).rejects.toThrow('START_REPLICATION: replication slot "no_such_slot" does not exist');
  });
});
