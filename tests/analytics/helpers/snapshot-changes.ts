// Change events placed as Debezium places them (`__sequence` = [last commit passed, own LSN]), for the
// snapshot-read and reconciliation tests, and the SCD2 rows those tests expect.
import type { Change, Values } from "./fixtures";
import { at, product, readTable } from "./fixtures";

export const T = (second: number): number => at(`2024-03-01T00:00:${String(second).padStart(2, "0")}Z`);
const iso = (second: number) => `2024-03-01 00:00:${String(second).padStart(2, "0")}+00`;
const sequence = (last: number | null, own: number | null) =>
  JSON.stringify([last === null ? null : String(last), own === null ? null : String(own)]);

/** A streamed change at `lsn`, after commit `last` (null: the first transaction after a snapshot). */
export function change(
  op: "c" | "u",
  lsn: number,
  last: number | null,
  second: number,
  id: number,
  name: string,
): Change {
  return { op, lsn, ts: T(second), row: product(id, name), sequence: sequence(last, lsn) };
}

export function del(lsn: number, last: number | null, second: number, id: number): Change {
  return { op: "d", lsn, ts: T(second), row: { id } as Values, sequence: sequence(last, lsn) };
}

/** An incremental-snapshot read sent after commit `last`: no LSN, no transaction. */
export function read(last: number, second: number, id: number, name: string): Change {
  return {
    op: "r",
    lsn: null,
    tx: null,
    ts: T(second),
    row: product(id, name),
    sequence: sequence(last, last),
  };
}

/** A read of the initial (blocking) snapshot at position `lsn`. */
export function initialRead(lsn: number, second: number, id: number, name: string): Change {
  return { op: "r", lsn, tx: 1, ts: T(second), row: product(id, name), sequence: sequence(null, lsn) };
}

export interface Version {
  id: number;
  name: string;
  from: number;
  to: number | null;
  op: string;
  deleted?: boolean;
  inferred?: boolean;
}

/** The SCD2 rows a test expects, in readTable's order. */
export const versions = (rows: Version[]) =>
  rows.map((r) => ({
    id: r.id,
    name: r.name,
    effective_from: iso(r.from),
    effective_to: r.to === null ? null : iso(r.to),
    is_current: r.to === null,
    is_deleted: r.deleted ?? false,
    is_deleted_inferred: r.inferred ?? false,
    __op: r.op,
  }));

/** The output table's rows in the shape of `versions`. */
export async function history(output: string) {
  const rows = await readTable(output, "products", "id, effective_from");
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    effective_from: r.effective_from,
    effective_to: r.effective_to,
    is_current: r.is_current,
    is_deleted: r.is_deleted,
    is_deleted_inferred: r.is_deleted_inferred,
    __op: r.__op,
  }));
}
