/**
 * Debezium's incremental snapshot (signal-based, `insert_insert` watermarks), driven by rows of the
 * signalling table as the stream delivers them. A chunk of rows (by primary key, `chunk.size` at a
 * time, up to the key that was largest when the table's snapshot began) is read between an open and
 * a close watermark row; every change the stream shows between the two watermarks removes its key
 * from the chunk, and what is left is emitted as `r` records when the close watermark arrives. So a
 * row changed while its chunk was read is represented by that change, never by an older read.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Logger } from "pino";
import { quoteIdent, quoteQualified } from "../database/sql";
import { readTableInfo, type TableInfo } from "./catalog";
import { RAW_TEXT } from "./snapshot";
import type { SourceInfo, TableRecordBuilder, UnwrappedRecord } from "./unwrap";

type Row = Record<string, string | null>;
type Key = (string | null)[];

/** A row of the signalling table, as inserted. */
export interface SignalRow {
  id: string;
  type: string;
  data: string | null;
}

/** What survives a restart, as Debezium keeps it in the source offset (`incremental_snapshot_*`). */
export interface IncrementalState {
  /** Tables still to snapshot, the current one first. */
  collections: string[];
  /** Primary key of the last row emitted from the current table; null: none yet. */
  lastKeySent: Key | null;
  /** Largest primary key of the current table when its snapshot began. */
  maximumKey: Key | null;
}

/** What a signal asks of the stream: records to emit now, then work it must wait for. */
export interface SignalOutcome {
  records: UnwrappedRecord[];
  work?: Promise<void>;
}

export class IncrementalSnapshot {
  private collections: string[] = [];
  private lastKeySent: Key | null = null;
  private maximumKey: Key | null = null;
  /** Where the next chunk starts (the last key read); null: the table's first chunk. */
  private chunkEnd: Key | null = null;
  private chunkId: string | undefined;
  private windowOpen = false;
  private readonly window = new Map<string, Row>();
  private current: { builder: TableRecordBuilder; key: string[] } | undefined;

  constructor(
    private readonly client: pg.Client,
    private readonly signalTable: string,
    private readonly chunkSize: number,
    /** The captured tables (`schema.table`), in snapshot order; a request names some of them. */
    private readonly capturedTables: () => Promise<string[]>,
    private readonly makeBuilder: (info: TableInfo) => TableRecordBuilder,
    private readonly logger: Logger,
  ) {}

  /** Resumes a snapshot a previous run stored: its next chunk starts after the last key emitted. */
  resume(state: IncrementalState): Promise<void> {
    this.collections = [...state.collections];
    this.lastKeySent = state.lastKeySent;
    this.chunkEnd = state.lastKeySent;
    this.maximumKey = state.maximumKey;
    this.logger.info({ tables: this.collections }, "incremental snapshot resumed");
    return this.readChunk();
  }

  state(): IncrementalState | undefined {
    if (this.collections.length === 0) return undefined;
    return {
      collections: [...this.collections],
      lastKeySent: this.lastKeySent,
      maximumKey: this.maximumKey,
    };
  }

  /**
   * A row inserted into the signalling table. `source` is the `source` block the event would have:
   * chunk rows emitted at a close watermark carry its position (LSN, txId, sequence).
   */
  onSignal(signal: SignalRow, source: SourceInfo): SignalOutcome {
    switch (signal.type) {
      case "execute-snapshot":
        return { records: [], work: this.execute(signal) };
      case "snapshot-window-open":
        if (this.expected(signal.id)) this.windowOpen = true;
        return { records: [] };
      case "snapshot-window-close": {
        if (!this.expected(signal.id)) return { records: [] };
        this.windowOpen = false;
        return { records: this.emitWindow(source), work: this.readChunk() };
      }
      default:
        this.logger.warn({ id: signal.id, type: signal.type }, "signal type not supported locally, ignored");
        return { records: [] };
    }
  }

  /** A change the stream emitted for `table` with these primary keys: it wins over the chunk's rows. */
  onChange(table: string, keys: Key[]): void {
    if (!this.windowOpen || this.window.size === 0 || this.collections[0] !== table) return;
    for (const key of keys) this.window.delete(JSON.stringify(key));
  }

  /** Watermarks of another (older, or a previous run's) chunk are ignored, as Debezium does. */
  private expected(id: string): boolean {
    return this.chunkId !== undefined && id.startsWith(this.chunkId);
  }

  private async execute(signal: SignalRow): Promise<void> {
    let request: { tables: string[]; type: string };
    try {
      request = parseExecuteSnapshot(signal);
    } catch (err) {
      // Debezium logs a malformed signal and streams on; so does the runtime.
      this.logger.warn({ err }, "signal ignored");
      return;
    }
    if (request.type !== "incremental") {
      this.logger.warn(
        { id: signal.id, type: request.type },
        "only incremental snapshots run locally, ignored",
      );
      return;
    }
    const captured = await this.capturedTables();
    const tables = request.tables.flatMap((pattern) => {
      const re = new RegExp(`^(?:${pattern})$`, "i");
      const found = captured.filter((t) => re.test(t));
      if (found.length === 0)
        this.logger.warn({ id: signal.id, table: pattern }, "no captured table matches");
      return found;
    });
    const running = this.collections.length > 0;
    this.collections.push(...tables);
    this.logger.info({ id: signal.id, tables }, "incremental snapshot requested");
    if (!running && tables.length > 0) await this.readChunk();
  }

  /**
   * The window's rows as Debezium sends them at a close watermark: `source` names the snapshotted table,
   * `snapshot` is `incremental`, the time is when the row is sent, and the position is the last commit
   * the stream had passed (no LSN or txId of its own: `sequence` holds that commit twice).
   */
  private emitWindow(closedAt: SourceInfo): UnwrappedRecord[] {
    const current = this.current;
    if (!current) return [];
    const { schema, table } = current.builder.info;
    const [lastCommit] = JSON.parse(closedAt.sequence) as [string | null, string];
    const records: UnwrappedRecord[] = [];
    for (const row of this.window.values()) {
      this.lastKeySent = current.key.map((c) => row[c] ?? null);
      const nowMs = Date.now();
      const source: SourceInfo = {
        ...closedAt,
        schema,
        table,
        snapshot: "incremental",
        ts_ms: nowMs,
        ts_us: nowMs * 1000,
        ts_ns: nowMs * 1_000_000,
        sequence: JSON.stringify([lastCommit, lastCommit]),
        lsn: null,
        txId: null,
      };
      records.push(...current.builder.read("r", row, nowMs, source));
    }
    this.window.clear();
    return records;
  }

  /** Debezium's readChunk: open watermark, the next non-empty chunk into the window, close watermark. */
  private async readChunk(): Promise<void> {
    if (this.collections.length === 0) return;
    this.chunkId = randomUUID();
    const openedAt = new Date().toISOString();
    await this.watermark("open", { openWindowTimestamp: openedAt });
    while (this.collections.length > 0) {
      const [schema, table] = this.collections[0]!.split(".") as [string, string];
      const info = await readTableInfo(this.client, schema, table);
      if (info.primaryKey.length === 0) {
        this.logger.warn(
          { table: this.collections[0] },
          "incremental snapshot skipped: the table has no primary key",
        );
        this.nextTable();
        continue;
      }
      this.current = { builder: this.makeBuilder(info), key: info.primaryKey };
      if (this.maximumKey === null) {
        const descending = info.primaryKey.map((c) => `${quoteIdent(c)} DESC`).join(", ");
        const max = await this.select(info, "", [], descending, 1);
        if (max.length === 0) {
          this.nextTable();
          continue;
        }
        this.maximumKey = info.primaryKey.map((c) => max[0]![c] ?? null);
      }
      const rows = await this.readRows(info);
      for (const row of rows)
        this.window.set(JSON.stringify(info.primaryKey.map((c) => row[c] ?? null)), row);
      if (rows.length > 0) {
        this.chunkEnd = info.primaryKey.map((c) => rows[rows.length - 1]![c] ?? null);
        break;
      }
      this.logger.info({ table: this.collections[0] }, "incremental snapshot of table done");
      this.nextTable();
    }
    if (this.collections.length === 0) this.logger.info("incremental snapshot done");
    await this.watermark("close", {
      openWindowTimestamp: openedAt,
      closeWindowTimestamp: new Date().toISOString(),
    });
  }

  /** The first chunk has no bounds; later ones start after the last key read and end at the maximum key. */
  private readRows(info: TableInfo): Promise<Row[]> {
    if (this.chunkEnd === null) return this.select(info, "", [], keyList(info), this.chunkSize);
    const n = info.primaryKey.length;
    const params = (from: number) => info.primaryKey.map((_, i) => `$${from + i}`).join(", ");
    const where = `WHERE (${keyList(info)}) > (${params(1)}) AND NOT ((${keyList(info)}) > (${params(n + 1)}))`;
    return this.select(info, where, [...this.chunkEnd, ...this.maximumKey!], keyList(info), this.chunkSize);
  }

  private async select(
    info: TableInfo,
    where: string,
    values: Key,
    orderBy: string,
    limit: number,
  ): Promise<Row[]> {
    const columns = info.columns.map((c) => quoteIdent(c.name)).join(", ");
    const from = quoteQualified(`${info.schema}.${info.table}`);
    const result = await this.client.query<Row>({
      text: `SELECT ${columns} FROM ${from} ${where} ORDER BY ${orderBy} LIMIT ${limit}`,
      values,
      types: RAW_TEXT,
    });
    return result.rows;
  }

  private nextTable(): void {
    this.collections.shift();
    this.current = undefined;
    this.lastKeySent = null;
    this.maximumKey = null;
    this.chunkEnd = null;
  }

  private async watermark(kind: "open" | "close", data: Record<string, string>): Promise<void> {
    await this.client.query(`INSERT INTO ${quoteQualified(this.signalTable)} VALUES ($1, $2, $3)`, [
      `${this.chunkId}-${kind}`,
      `snapshot-window-${kind}`,
      JSON.stringify(data),
    ]);
  }
}

const keyList = (info: TableInfo): string => info.primaryKey.map(quoteIdent).join(", ");

/** The `data` of an execute-snapshot signal: `{"data-collections": [...], "type": "incremental"}`. */
export function parseExecuteSnapshot(signal: SignalRow): { tables: string[]; type: string } {
  let data: unknown;
  try {
    data = JSON.parse(signal.data ?? "");
  } catch {
    throw new Error(`signal ${signal.id}: execute-snapshot data is not JSON: ${signal.data}`);
  }
  const { "data-collections": tables, type } = (data ?? {}) as {
    "data-collections"?: unknown;
    type?: unknown;
  };
  if (!Array.isArray(tables) || tables.length === 0 || !tables.every((t) => typeof t === "string"))
    throw new Error(`signal ${signal.id}: execute-snapshot needs "data-collections", a list of table names`);
  return { tables, type: typeof type === "string" ? type.toLowerCase() : "incremental" };
}
