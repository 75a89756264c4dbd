/**
 * Before streaming on from stored offsets: is the slot still the one they were acknowledged on? A slot that
 * is gone, invalidated (`wal_status` lost: `max_slot_wal_keep_size` exceeded) or ahead of the offsets (dropped
 * and created again, or read by something else) no longer holds the changes after the stored position.
 * Streaming on would skip them without a trace (PostgreSQL starts a slot at its own position whatever was
 * asked), so the runtime refuses and names the recovery instead.
 */
import type pg from "pg";
import { formatLsn, parseLsn } from "./lsn";

export const RECOVERY_HINT =
  "recover with `cdc-resnapshot --recover-slot` (docs/day-two.md): it re-creates the slot, moves the offsets to it " +
  "and re-snapshots the tables so the SCD2 job can reconcile";

interface SlotRow {
  wal_status: string | null;
  confirmed_flush_lsn: string | null;
  database: string | null;
}

/** Why the slot cannot continue from `storedLsn`, or undefined when it can. */
export function slotProblem(
  slot: string,
  storedLsn: bigint,
  row: SlotRow | undefined,
  dbname: string,
): string | undefined {
  const since = `the offsets say streaming reached ${formatLsn(storedLsn)}`;
  if (!row)
    return `replication slot "${slot}" does not exist, but ${since}: the changes since then went with it`;
  if (row.database !== dbname)
    return `replication slot "${slot}" belongs to database "${row.database}", not "${dbname}"`;
  if (row.wal_status === "lost")
    return `replication slot "${slot}" is invalidated (wal_status lost: the WAL it needed was removed, e.g. max_slot_wal_keep_size exceeded); ${since}`;
  const confirmed = row.confirmed_flush_lsn === null ? null : parseLsn(row.confirmed_flush_lsn);
  // The acknowledgement of `storedLsn` confirms storedLsn + 1 (replication.ts sends "last byte + 1").
  if (confirmed !== null && confirmed > storedLsn + 1n)
    return (
      `replication slot "${slot}" starts at ${formatLsn(confirmed)}, after the stored offset ${formatLsn(storedLsn)}: ` +
      "the changes in between are not in it (the slot was created again, or something else consumed it)"
    );
  return undefined;
}

/** Throws, naming the problem and the recovery, when the slot cannot continue from `storedLsn`. */
export async function checkSlot(
  client: pg.Client,
  slot: string,
  dbname: string,
  storedLsn: bigint,
): Promise<void> {
  const { rows } = await client.query<SlotRow>(
    `SELECT wal_status, confirmed_flush_lsn::text AS confirmed_flush_lsn, database
     FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const problem = slotProblem(slot, storedLsn, rows[0], dbname);
  if (problem) throw new Error(`${problem}. Not streaming on as if nothing was lost: ${RECOVERY_HINT}`);
}
