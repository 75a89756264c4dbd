/**
 * The replication connection as the runtime reads it itself: a message far larger than a socket read
 * arrives whole, and a connection the server ends while the runtime streams (its walsender terminated)
 * fails the runtime with the server's reason (pg's client said only "Connection terminated unexpectedly").
 */
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import type { UnwrappedRecord } from "../../../connectors/local";
import { captureSetup, runtimeFor, useHarness, waitFor } from "./harness";

describe("the replication connection", () => {
  const h = useHarness();

  it("delivers a 6 MB row whole, with the rows around it", async () => {
    await h.db.query("CREATE TABLE public.wide (id int PRIMARY KEY, body text)");
    const setup = await captureSetup(h, ["public.wide"], { source: { "snapshot.mode": "no_data" } });
    const records: UnwrappedRecord[] = [];
    const runtime = await runtimeFor(setup, { onRecord: (record) => records.push(record) });
    try {
      // md5 text does not compress: pgoutput sends all of it, about 100 socket reads' worth.
      await h.db.query(
        "INSERT INTO public.wide SELECT 1, 'a' UNION ALL SELECT 2, string_agg(md5(i::text), '') FROM generate_series(1, 200000) i UNION ALL SELECT 3, 'c'",
      );
      const { rows } = await h.db.query<{ md5: string }>("SELECT md5(body) FROM public.wide WHERE id = 2");
      await waitFor(() => records.length === 3);
      const bodies = records.map((r) => (r.value as { body: string }).body);
      expect(records.map((r) => (r.value as { id: number }).id)).toEqual([1, 2, 3]);
      expect([bodies[0], bodies[1]!.length, bodies[2]]).toEqual(["a", 6_400_000, "c"]);
      expect(createHash("md5").update(bodies[1]!).digest("hex")).toBe(rows[0]!.md5);
    } finally {
      await runtime.stop();
    }
  });

  it("lost while streaming fails the runtime with the server's reason, and its stop fails with it", async () => {
    await h.db.query("CREATE TABLE public.cut (id int PRIMARY KEY)");
    const setup = await captureSetup(h, ["public.cut"], {
      source: { "snapshot.mode": "no_data" },
      sink: { "flush.size": "1" },
    });
    const errors: Error[] = [];
    const runtime = await runtimeFor(setup, { onError: (err) => errors.push(err) });
    await h.db.query("INSERT INTO public.cut VALUES (1)");
    await waitFor(() => runtime.stats().recordsInFiles === 1);
    const { rows } = await h.db.query<{ terminated: boolean }>(
      "SELECT pg_terminate_backend(active_pid) AS terminated FROM pg_replication_slots WHERE slot_name = $1",
      [setup.slot],
    );
    expect(rows).toEqual([{ terminated: true }]);
    await waitFor(() => errors.length > 0);
    expect(errors.map((e) => e.message)).toEqual(["terminating connection due to administrator command"]);
    await expect(runtime.stop()).rejects.toThrow("terminating connection due to administrator command");
  });
});
