/**
 * A replication connection the server ends while the runtime streams (its walsender terminated) fails the
 * runtime with the server's reason (pg's client said only "Connection terminated unexpectedly").
 */
import { describe, expect, it } from "vitest";
import { startConnectorRuntime } from "../../../connectors/local";
import { captureSetup, quietLogger, useHarness, waitFor } from "./harness";

describe("the replication connection lost while streaming", () => {
  const h = useHarness();

  it("fails the runtime with the server's reason, and its stop fails with it", async () => {
    await h.db.query("CREATE TABLE public.cut (id int PRIMARY KEY)");
    const setup = await captureSetup(h, ["public.cut"], {
      source: { "snapshot.mode": "no_data" },
      sink: { "flush.size": "1" },
    });
    const errors: Error[] = [];
    const runtime = await startConnectorRuntime({
      source: setup.source,
      sink: setup.sink,
      bucketRoot: setup.bucketRoot,
      logger: quietLogger,
      onError: (err) => errors.push(err),
    });
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
