/**
 * Re-snapshot requests: an `execute-snapshot` row in Debezium's signalling table, then the source
 * connector's offsets watched until the incremental snapshot of the requested tables is done. The same
 * for real Debezium (offsets through the Kafka Connect REST API) and for the local runtime (its offset
 * file), since both keep an incremental snapshot in progress in the source offset.
 */
import type * as Crypto from "node:crypto";
import { readFile } from "node:fs/promises";
import type pg from "pg";
// The module, not the folder's index: NewTableSnapshots' provider serializes requestSnapshot with what it
// reaches, and the index brings the settings schemas (zod), which do not serialize.
import { executeSnapshotSignal } from "../config/signal";
import { quoteQualified } from "../database/sql";
import { offsetFilePath } from "../local/durable";
import { parseLsn } from "../local/lsn";

export interface SnapshotRequest {
  /** The signal's id (the signalling table's primary key). */
  id: string;
  tables: string[];
  /**
   * The WAL position just before the request was inserted: every record the snapshot makes (its reads,
   * and the changes streamed while it runs) is placed after it, so it starts a reconciliation window.
   */
  before: bigint;
  /** The WAL position right after the request committed: an offset at or past it has seen the request. */
  lsn: bigint;
}

/** Inserts the request (its own transaction) and returns where the WAL was before and once it committed. */
export async function requestSnapshot(
  client: pg.ClientBase,
  signalTable: string,
  tables: string[],
  // The id column holds 42 characters (a watermark's UUID plus "-close"): a UUID fits. Required, not
  // imported: NewTableSnapshots' Pulumi provider serializes this function, and would capture an import by value.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  id = (require("node:crypto") as typeof Crypto).randomUUID(),
): Promise<SnapshotRequest> {
  const { type, data } = executeSnapshotSignal(tables);
  const walNow = async () =>
    parseLsn((await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn);
  const before = await walNow();
  await client.query(`INSERT INTO ${quoteQualified(signalTable)} (id, type, data) VALUES ($1, $2, $3)`, [
    id,
    type,
    data,
  ]);
  return { id, tables, before, lsn: await walNow() };
}

/** A source offset reduced to what tells a snapshot's progress. */
export interface OffsetView {
  /** Position of the last change or watermark the offset covers. */
  lsn: bigint;
  /** Tables an incremental snapshot still has to read, the current one first. */
  pending: string[];
}

export type SnapshotProgress = "waiting" | "running" | "done";

/**
 * `waiting`: the connector has not stored an offset past the request yet; `running`: it has, and one of
 * the tables is still to be read; `done`: it has, and none is.
 */
export function snapshotProgress(request: SnapshotRequest, offset: OffsetView | undefined): SnapshotProgress {
  if (!offset || offset.lsn < request.lsn) return "waiting";
  return request.tables.some((t) => offset.pending.includes(t)) ? "running" : "done";
}

/** Debezium's PostgreSQL offset as Connect stores it (`lsn`, `incremental_snapshot_collections`). */
export function debeziumOffsetView(offset: Record<string, unknown>): OffsetView {
  if (typeof offset.lsn !== "number" && typeof offset.lsn !== "string")
    throw new Error(`the source offset has no lsn: ${JSON.stringify(offset)}`);
  const collections = offset.incremental_snapshot_collections;
  const pending =
    typeof collections === "string"
      ? (JSON.parse(collections) as { incremental_snapshot_collections_id: string }[]).map(
          (c) => c.incremental_snapshot_collections_id,
        )
      : [];
  return { lsn: BigInt(offset.lsn), pending };
}

/** The local runtime's offset file (`.connect-offsets/source-<name>.json` under its bucket root). */
export function localOffsetView(offset: Record<string, unknown>): OffsetView {
  if (typeof offset.lsn !== "string")
    throw new Error(`the source offset has no lsn: ${JSON.stringify(offset)}`);
  const incremental = offset.incremental_snapshot as { collections?: string[] } | undefined;
  return { lsn: BigInt(offset.lsn), pending: incremental?.collections ?? [] };
}

/** Reads the local runtime's source offset; undefined until it has stored one. */
export async function readLocalOffset(
  bucketRoot: string,
  connector: string,
): Promise<OffsetView | undefined> {
  const path = offsetFilePath(bucketRoot, "source", connector);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return localOffsetView(JSON.parse(text) as Record<string, unknown>);
}

/**
 * `GET /connectors/{name}/offsets` (Kafka Connect 3.5+); undefined while the connector has stored none.
 * `authorization` is sent as the Authorization header when given.
 */
export async function readConnectOffset(
  connectUrl: string,
  connector: string,
  authorization?: string,
): Promise<OffsetView | undefined> {
  const url = `${connectUrl.replace(/\/+$/, "")}/connectors/${encodeURIComponent(connector)}/offsets`;
  const response = await fetch(url, {
    headers: { Accept: "application/json", ...(authorization ? { Authorization: authorization } : {}) },
  });
  if (response.status !== 200)
    throw new Error(`GET ${url}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
  const body = (await response.json()) as { offsets?: { offset?: Record<string, unknown> }[] };
  const offset = body.offsets?.[0]?.offset;
  return offset ? debeziumOffsetView(offset) : undefined;
}
