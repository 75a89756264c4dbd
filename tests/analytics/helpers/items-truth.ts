/**
 * PostgreSQL's account of a table `(id int PRIMARY KEY, [other columns,] n int)` (histories compare `n`), for the re-snapshot and lost-slot tests:
 * a `test_decoding` slot of its own gives every committed transaction's row changes with their values
 * and the commit time, and the SCD2 history those commits (and the snapshots the job reads) must give,
 * derived with the job's documented rules. Nothing here comes from the records the job reads except the
 * snapshot reads' own times, which only the connector knows.
 */
import type pg from "pg";
import * as path from "node:path";
import { query } from "./fixtures";

export interface RowChange {
  op: "c" | "u" | "d";
  id: number;
  n: number | null;
}

export interface ItemsCommit {
  commitMs: number;
  changes: RowChange[];
}

const LINE = /^table ([^:]+): (INSERT|UPDATE|DELETE): id\[integer\]:(-?\d+)/;
const N = / n\[integer\]:(-?\d+)/;
const OPS = { INSERT: "c", UPDATE: "u", DELETE: "d" } as const;

/** Starts decoding from now on; the returned function gives the commits of `table` since the last call. */
export async function itemsOracle(
  db: pg.Client,
  slot: string,
  table: string,
): Promise<() => Promise<ItemsCommit[]>> {
  await db.query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [slot]);
  return async () => {
    const { rows } = await db.query<{ data: string }>(
      "SELECT data FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-timestamp', '1')",
      [slot],
    );
    const commits: ItemsCommit[] = [];
    let changes: RowChange[] = [];
    for (const { data } of rows) {
      if (data.startsWith("BEGIN")) changes = [];
      else if (data.startsWith("COMMIT")) {
        // `COMMIT <xid> (at 2026-12-06 15:00:00.123456+00)`: Debezium's ts_ms is the commit time in ms.
        const at = /\(at (.+)\)/.exec(data)![1]!;
        const commitMs = Date.parse(at.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
        if (changes.length > 0) commits.push({ commitMs, changes });
      } else {
        const m = LINE.exec(data);
        if (m && m[1] === table) {
          const op = OPS[m[2] as keyof typeof OPS];
          changes.push({ op, id: Number(m[3]), n: op === "d" ? null : Number(N.exec(data)![1]) });
        }
      }
    }
    return commits;
  };
}

export interface ItemVersion {
  id: number;
  n: number;
  from: number;
  to: number | null;
  deleted: boolean;
  inferred: boolean;
  op: string;
}

/** A complete snapshot as the job sees it: each read's value and time; keys not read may be closed. */
export interface SnapshotEvent {
  reads: Map<number, { n: number; tsMs: number }>;
  /** Reconciled: keys current but not read are closed as deleted (inferred) at the first read's time. */
  reconcile: boolean;
}

export type TruthEvent = { commit: ItemsCommit } | { snapshot: SnapshotEvent };

/**
 * The history the job's rules give: a commit's last change of a key makes a version unless the key's
 * values stay as they were (a delete closes it); a read that differs from the current version closes it
 * and opens one at the read's time, a read of a key without a current version opens one.
 */
export function expectedItems(events: readonly TruthEvent[]): ItemVersion[] {
  const versions: ItemVersion[] = [];
  const open = new Map<number, ItemVersion>();
  const close = (id: number, at: number, deleted: boolean, inferred = false) => {
    const current = open.get(id);
    if (!current) return;
    Object.assign(current, { to: at, deleted, inferred });
    open.delete(id);
  };
  const start = (id: number, n: number, at: number, op: string) => {
    const version = { id, n, from: at, to: null, deleted: false, inferred: false, op };
    versions.push(version);
    open.set(id, version);
  };
  for (const event of events) {
    if ("commit" in event) {
      const last = new Map(event.commit.changes.map((c) => [c.id, c]));
      for (const [id, change] of last) {
        if (change.n !== null && open.get(id)?.n === change.n) continue;
        close(id, event.commit.commitMs, change.n === null);
        if (change.n !== null) start(id, change.n, event.commit.commitMs, change.op);
      }
    } else {
      const { reads, reconcile } = event.snapshot;
      const first = Math.min(...[...reads.values()].map((r) => r.tsMs));
      if (reconcile)
        for (const id of [...open.keys()].filter((id) => !reads.has(id))) close(id, first, true, true);
      for (const [id, read] of reads) {
        if (open.get(id)?.n === read.n) continue;
        close(id, read.tsMs, false);
        start(id, read.n, read.tsMs, "r");
      }
    }
  }
  return versions.sort(byVersion);
}

/**
 * A key's versions in time. Two commits within one millisecond make a version that lasts 0 ms: it sorts
 * before the one opened at the same instant (its end is earlier; a current version's end is last).
 */
const byVersion = (a: ItemVersion, b: ItemVersion): number =>
  a.id - b.id || a.from - b.from || (a.to ?? Infinity) - (b.to ?? Infinity) || 0;

/** The job's output table `dir` in ItemVersion form. */
export async function itemsHistory(output: string, dir: string): Promise<ItemVersion[]> {
  const rows = await query(
    `SELECT id, n, epoch_ms(effective_from) AS f, epoch_ms(effective_to) AS t, is_deleted, is_deleted_inferred, __op
     FROM read_parquet('${path.join(output, dir, "**", "*.parquet")}') ORDER BY id, effective_from, effective_to NULLS LAST`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    n: Number(r.n),
    from: Number(r.f),
    to: r.t === null ? null : Number(r.t),
    deleted: r.is_deleted === true,
    inferred: r.is_deleted_inferred === true,
    op: String(r.__op),
  }));
}

/** The snapshot reads among a topic's records (initial: with an LSN; incremental: without), by key. */
export async function readsOf(
  files: string[],
  incremental: boolean,
): Promise<Map<number, { n: number; tsMs: number }>> {
  const list = files.map((f) => `'${f}'`).join(", ");
  const rows = await query(
    `SELECT id, n, __source_ts_ms AS ts FROM read_parquet([${list}], union_by_name = true)
     WHERE __op = 'r' AND (__lsn IS NULL) = ${incremental} ORDER BY id`,
  );
  return new Map(rows.map((r) => [Number(r.id), { n: Number(r.n), tsMs: Number(r.ts) }]));
}

/** How many records of key `id` the files hold. */
export async function recordsOf(files: string[], id: number): Promise<number> {
  if (files.length === 0) return 0;
  const list = files.map((f) => `'${f}'`).join(", ");
  const [row] = await query(
    `SELECT count(*)::INT AS n FROM read_parquet([${list}], union_by_name = true) WHERE id = ${id}`,
  );
  return Number(row!.n);
}
