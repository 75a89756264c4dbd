/**
 * The ceiling consumer of `bench:capture` counts exactly the changes in its slot, across transactions of
 * inserts, updates and deletes, stops after the commit that completes them, and leaves the slot where it
 * was (so the runtime's measurement and the ceiling read the same changes). Its pg_recvlogical run
 * counts only when pg_recvlogical exits 0 having read the slot to the end; the bench runs the real
 * binary, these tests put stand-ins for it first on PATH, so they hold on a machine without it.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  measurePgRecvlogical,
  measureWalsenderCeiling,
  pgRecvlogicalMissing,
} from "../../bench/walsender-ceiling";
import { useHarness } from "../connectors/local/harness";

const h = useHarness();

describe("the walsender ceiling consumer", () => {
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

describe("the pg_recvlogical ceiling", () => {
  const path = process.env.PATH;
  const dirs: string[] = [];
  afterEach(() => {
    process.env.PATH = path;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  /** Puts a pg_recvlogical running `script` first on PATH. */
  const standIn = (script: string): void => {
    const dir = mkdtempSync(join(tmpdir(), "recvlogical-"));
    dirs.push(dir);
    writeFileSync(join(dir, "pg_recvlogical"), `#!/bin/sh\n${script}\n`);
    chmodSync(join(dir, "pg_recvlogical"), 0o755);
    process.env.PATH = `${dir}:${path}`;
  };

  it("is reported missing, with the package to install, when PATH has no pg_recvlogical", () => {
    process.env.PATH = "/nonexistent";
    expect(pgRecvlogicalMissing()).toMatch(
      /^pg_recvlogical not found on PATH \(Debian's postgresql-client\): spawnSync pg_recvlogical ENOENT$/,
    );
  });

  it("fails with pg_recvlogical's message when it exits non-zero", async () => {
    standIn('echo "pg_recvlogical: error: could not send replication command" >&2; exit 1');
    await expect(measurePgRecvlogical(h.pg.connectionString, "any", "pub", "0/0")).rejects.toThrow(
      "pg_recvlogical exited 1: pg_recvlogical: error: could not send replication command",
    );
  });

  it("fails when it exits 0 without having read the slot to the end", async () => {
    await h.db.query("CREATE TABLE public.recv (id int PRIMARY KEY)");
    await h.db.query("SELECT pg_create_logical_replication_slot('slot_recv', 'pgoutput')");
    await h.db.query("INSERT INTO public.recv SELECT generate_series(1, 10)");
    const slot = await h.db.query<{ lsn: string }>(
      "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'slot_recv'",
    );
    const end = await h.db.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    standIn("exit 0");
    await expect(
      measurePgRecvlogical(h.pg.connectionString, "slot_recv", "pub", end.rows[0]!.lsn),
    ).rejects.toThrow(`pg_recvlogical stopped at ${slot.rows[0]!.lsn}, not at ${end.rows[0]!.lsn}`);
  });
});
