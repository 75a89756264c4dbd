/**
 * The SCD2 history a table should have, derived from the ground truth with the job's documented rules
 * (docs/analytics.md): a version per state a key was seen in after a commit, from that commit's time until
 * the commit that changed or deleted the key (half-open); a commit that leaves the key's values as they were
 * makes no version; a deleted key's last version is closed and marked deleted; a key inserted again opens a
 * new version. Lineage: the op, LSN and transaction of the key's last change in the commit.
 */
import type { Row } from "./canonical";
import type { Commit } from "./ground-truth";
import { stateKey } from "./ground-truth";

export interface Version {
  id: string;
  values: Row;
  fromMs: number;
  toMs: number | null;
  deleted: boolean;
  op: string;
  lsn: string;
  txId: string;
}

/** The initial snapshot: rows as PostgreSQL held them, and where and when Debezium read them. */
export interface Snapshot {
  rows: Row[];
  tsMs: number;
  lsn: string;
  txId: string;
}

const same = (a: Row, b: Row): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Columns a change's record carries Debezium's unavailable-value placeholder in (unchanged TOASTed values). */
export type Unavailable = (id: string, lsn: string) => readonly string[];

/**
 * The versions of `table`. Values are PostgreSQL's, except where the change's record carries the
 * placeholder: there the job carries the key's previous version's value forward (rule 6), which is NULL when
 * the key has no live version (after a delete, or a new key: the create a primary-key change makes).
 */
export function expectedHistory(
  table: string,
  snapshot: Snapshot,
  commits: readonly Commit[],
  unavailable: Unavailable,
): Version[] {
  const versions: Version[] = [];
  const open = new Map<string, Version>();
  for (const row of snapshot.rows) {
    const { tsMs, lsn, txId } = snapshot;
    const version = {
      id: row.id!,
      values: row,
      fromMs: tsMs,
      toMs: null,
      deleted: false,
      op: "r",
      lsn,
      txId,
    };
    versions.push(version);
    open.set(version.id, version);
  }
  for (const commit of commits) {
    const last = new Map(commit.changes.filter((c) => c.table === table).map((c) => [c.id, c]));
    for (const [id, { op, lsn }] of last) {
      const state = commit.states.get(stateKey(table, id));
      if (state === undefined) throw new Error(`commit ${commit.xid} recorded no state for ${table} ${id}`);
      const current = open.get(id);
      const values = state && { ...state };
      for (const column of values ? unavailable(id, lsn) : [])
        values![column] = current?.values[column] ?? null;
      if (values !== null && current !== undefined && same(current.values, values)) continue;
      if (current !== undefined) {
        current.toMs = commit.tsMs;
        current.deleted = values === null;
        open.delete(id);
      }
      if (values !== null) {
        const version = {
          id,
          values,
          fromMs: commit.tsMs,
          toMs: null,
          deleted: false,
          op,
          lsn,
          txId: commit.xid,
        };
        versions.push(version);
        open.set(id, version);
      }
    }
  }
  return versions.sort(
    (a, b) => Number(a.id) - Number(b.id) || a.fromMs - b.fromMs || Number(a.lsn) - Number(b.lsn),
  );
}
