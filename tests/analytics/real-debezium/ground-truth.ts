/**
 * What happened in the source database, from PostgreSQL itself: after each commit, the transaction's row
 * changes in WAL order with their LSNs (a `test_decoding` slot of its own, decoded as PostgreSQL logged
 * them), its commit time (`pg_xact_commit_timestamp`, track_commit_timestamp=on) and the full state of every
 * row it touched, read from the table right after the commit (nothing else writes in between).
 */
import type pg from "pg";
import type { TableDefinition } from "../../../connectors/database";
import { quoteQualified } from "../../../connectors/database";
import type { Row } from "./canonical";
import { pgCanonical } from "./canonical";

/** One row change as Debezium emits it: a primary-key update is a delete of the old key and a create. */
export interface KeyChange {
  table: string;
  id: string;
  op: "c" | "u" | "d";
  /** The change's WAL position, as a decimal number (Debezium's `lsn`). */
  lsn: string;
}

export interface Commit {
  xid: string;
  /** Commit time in epoch milliseconds (Debezium's `source.ts_ms` is the commit time in ms). */
  tsMs: number;
  changes: KeyChange[];
  /** `<table>/<id>` → the row after the commit, null when it no longer exists. */
  states: Map<string, Row | null>;
}

const SLOT = "scd2_ground_truth";
export const stateKey = (table: string, id: string): string => `${table}/${id}`;

/** test_decoding's text: `table <schema>.<table>: <KIND>: [old-key: id[bigint]:<old> new-tuple: ]id[bigint]:<id> …`. */
const CHANGE =
  /^table ([^:]+): (INSERT|UPDATE|DELETE): (?:old-key: id\[bigint\]:(\d+) new-tuple: )?id\[bigint\]:(\d+)/;

/** A decoded change line as the key changes Debezium makes of it. */
function keyChanges(data: string, lsn: string): KeyChange[] {
  const match = CHANGE.exec(data);
  if (!match) throw new Error(`unexpected test_decoding line: ${data.slice(0, 200)}`);
  const [, table, kind, oldId, id] = match as unknown as [string, string, string, string | undefined, string];
  if (kind === "INSERT") return [{ table, id, op: "c", lsn }];
  if (kind === "DELETE") return [{ table, id, op: "d", lsn }];
  if (oldId === undefined || oldId === id) return [{ table, id, op: "u", lsn }];
  return [
    { table, id: oldId, op: "d", lsn },
    { table, id, op: "c", lsn },
  ];
}

/** Rows of `table` in canonical form, all or those with the given ids. */
export async function tableRows(admin: pg.Client, table: TableDefinition, ids?: string[]): Promise<Row[]> {
  const where = ids === undefined ? "" : " WHERE id = ANY($1::bigint[])";
  const result = await admin.query<Row>(
    `SELECT ${table.columns.map(pgCanonical).join(", ")} FROM ${quoteQualified(table.qualifiedName)}${where} ORDER BY id`,
    ids === undefined ? [] : [ids],
  );
  return result.rows;
}

export class GroundTruth {
  readonly commits: Commit[] = [];

  private constructor(
    private readonly admin: pg.Client,
    private readonly tables: readonly TableDefinition[],
  ) {}

  /** Creates the slot: every transaction committed from now on is decoded. */
  static async start(admin: pg.Client, tables: readonly TableDefinition[]): Promise<GroundTruth> {
    await admin.query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [SLOT]);
    return new GroundTruth(admin, tables);
  }

  /** Records transaction `xid`, which has just committed (and is the only one since the last call). */
  async committed(xid: string): Promise<Commit> {
    const decoded = await this.admin.query<{ lsn: string; xid: string; data: string }>(
      `SELECT (lsn - '0/0'::pg_lsn)::text AS lsn, xid::text AS xid, data
       FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-xids', '0', 'skip-empty-xacts', '1')`,
      [SLOT],
    );
    const captured = new Set(this.tables.map((t) => t.qualifiedName));
    const changes = decoded.rows
      .filter((r) => r.data.startsWith("table ") && captured.has(r.data.slice(6, r.data.indexOf(":"))))
      .flatMap((r) => {
        if (r.xid !== xid) throw new Error(`transaction ${r.xid} changed ${r.data.slice(0, 80)}, not ${xid}`);
        return keyChanges(r.data, r.lsn);
      });
    const [time] = (
      await this.admin.query<{ ms: string }>(
        "SELECT floor(extract(epoch FROM pg_xact_commit_timestamp($1::text::xid)) * 1000)::bigint::text AS ms",
        [xid],
      )
    ).rows;
    const states = new Map<string, Row | null>();
    for (const table of this.tables) {
      const ids = [...new Set(changes.filter((c) => c.table === table.qualifiedName).map((c) => c.id))];
      if (ids.length === 0) continue;
      const rows = await tableRows(this.admin, table, ids);
      for (const id of ids)
        states.set(stateKey(table.qualifiedName, id), rows.find((r) => r.id === id) ?? null);
    }
    const commit = { xid, tsMs: Number(time!.ms), changes, states };
    this.commits.push(commit);
    return commit;
  }

  async stop(): Promise<void> {
    await this.admin.query("SELECT pg_drop_replication_slot($1)", [SLOT]);
  }
}

/** A transaction on `client` whose commit is recorded in `truth`. */
export class Transaction {
  private constructor(
    private readonly client: pg.Client,
    private readonly truth: GroundTruth,
    readonly xid: string,
  ) {}

  static async begin(client: pg.Client, truth: GroundTruth): Promise<Transaction> {
    await client.query("BEGIN");
    const { rows } = await client.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid");
    return new Transaction(client, truth, rows[0]!.xid);
  }

  async run(sql: string, params: unknown[] = []): Promise<void> {
    await this.client.query(sql, params);
  }

  async commit(): Promise<Commit> {
    await this.client.query("COMMIT");
    return this.truth.committed(this.xid);
  }
}
