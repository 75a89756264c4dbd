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
 * Makes the slot usable: created if gone, dropped and created if invalidated. Returns what was done and where
 * the slot starts. `holder` names what must be stopped when the slot is still in use.
 */
async function ensureSlot(
  client: pg.ClientBase,
  slot: string,
  holder: string,
): Promise<{ slotAction: SlotRecovery["slotAction"]; confirmed: bigint }> {
  const before = await slotRow(client, slot);
  if (before?.active) throw new Error(`replication slot "${slot}" is in use: stop ${holder} first`);
  let slotAction: SlotRecovery["slotAction"] = "none";
  if (before?.wal_status === "lost") {
    await client.query(`SELECT pg_drop_replication_slot(${quoteLiteral(slot)})`);
    slotAction = "recreated";
  } else if (!before) slotAction = "created";
  if (slotAction !== "none") await client.query(createSlotSql({ name: slot, plugin: "pgoutput" }));
  return { slotAction, confirmed: parseLsn((await slotRow(client, slot))!.confirmed_flush_lsn!) };
}

/**
 * Whether the offsets must move to the slot: it was re-created, or it starts past them (an acknowledged
 * position reads one past the stored offset: the replication protocol's "last byte + 1").
 */
const gapToClose = (stored: bigint, confirmed: bigint, slotAction: SlotRecovery["slotAction"]): boolean =>
  slotAction !== "none" || confirmed > stored + 1n;

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
  const { slotAction, confirmed } = await ensureSlot(client, options.slot, "cdc-connect-local");
  if (!gapToClose(stored, confirmed, slotAction))
    return { slot: options.slot, slotAction, from: formatLsn(stored), to: formatLsn(stored) };
  const gap = { from: offset.lsn, to: confirmed.toString(), recoveredAt: new Date().toISOString() };
  await file.write({ ...offset, lsn: confirmed.toString(), slot_gap: gap });
  return { slot: options.slot, slotAction, from: formatLsn(stored), to: formatLsn(confirmed) };
}
