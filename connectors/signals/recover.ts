/**
 * Lost-slot recovery for the local runtime: re-create the slot when it is gone or invalidated, and move the
 * runtime's stored offsets to where the slot now starts, recording the gap. What happened inside the gap is
 * not in any WAL any more; the re-snapshot that follows gives every row's current state, and the SCD2 job's
 * reconciliation closes the keys the snapshot no longer shows (docs/day-two.md).
 */
import { join } from "node:path";
import type pg from "pg";
import { createSlotSql, quoteLiteral } from "../database/sql";
import { OffsetFile } from "../local/durable";
import { formatLsn, parseLsn } from "../local/lsn";

export interface SlotRecovery {
  slot: string;
  /** What was done to the slot: it was fine, created (gone), or dropped and created (invalidated). */
  slotAction: "none" | "created" | "recreated";
  /** The stored offset before, and where streaming continues: changes between the two are lost. */
  from: string;
  to: string;
}

interface SlotRow {
  active: boolean;
  wal_status: string | null;
  confirmed_flush_lsn: string | null;
}

async function slotRow(client: pg.ClientBase, slot: string): Promise<SlotRow | undefined> {
  const { rows } = await client.query<SlotRow>(
    `SELECT active, wal_status, confirmed_flush_lsn::text AS confirmed_flush_lsn FROM pg_replication_slots
     WHERE slot_name = $1`,
    [slot],
  );
  return rows[0];
}

/**
 * `client` must be allowed to create and drop replication slots. Fails, changing nothing, when the runtime
 * still holds the slot or has never stored offsets (a first start snapshots by itself).
 */
export async function recoverLocalSlot(
  client: pg.ClientBase,
  options: { slot: string; bucketRoot: string; connector: string },
): Promise<SlotRecovery> {
  const file = new OffsetFile<Record<string, unknown>>(
    join(options.bucketRoot, ".connect-offsets", `source-${options.connector}.json`),
  );
  const offset = await file.read();
  if (!offset || typeof offset.lsn !== "string")
    throw new Error(`no source offsets at ${file.path}: nothing to recover (a first start takes a snapshot)`);
  const stored = BigInt(offset.lsn);
  const before = await slotRow(client, options.slot);
  if (before?.active)
    throw new Error(`replication slot "${options.slot}" is in use: stop cdc-connect-local first`);
  let slotAction: SlotRecovery["slotAction"] = "none";
  if (before?.wal_status === "lost") {
    await client.query(`SELECT pg_drop_replication_slot(${quoteLiteral(options.slot)})`);
    slotAction = "recreated";
  } else if (!before) slotAction = "created";
  if (slotAction !== "none") await client.query(createSlotSql({ name: options.slot, plugin: "pgoutput" }));
  const confirmed = parseLsn((await slotRow(client, options.slot))!.confirmed_flush_lsn!);
  // An acknowledged position reads one past the stored offset (the replication protocol's "last byte + 1").
  if (confirmed <= stored + 1n && slotAction === "none")
    return { slot: options.slot, slotAction, from: formatLsn(stored), to: formatLsn(stored) };
  const gap = { from: offset.lsn, to: confirmed.toString(), recoveredAt: new Date().toISOString() };
  await file.write({ ...offset, lsn: confirmed.toString(), slot_gap: gap });
  return { slot: options.slot, slotAction, from: formatLsn(stored), to: formatLsn(confirmed) };
}
