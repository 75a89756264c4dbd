/**
 * Streams the replication slot with pgoutput and turns each change into Debezium's records.
 * Relation messages (re)build a table's schema from the catalog; messages that arrive while the
 * catalog is read wait in a backlog, so records stay in stream order without per-row awaits.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { readTableInfo, SESSION_OPTIONS, type TableInfo } from "./catalog";
import type { IncrementalSnapshot, SignalRow } from "./incremental";
import { WalPosition } from "./lsn";
import {
  PgoutputDecoder,
  type DeleteMessage,
  type InsertMessage,
  type PgoutputMessage,
  type RelationMessage,
  type UpdateMessage,
} from "./pgoutput";
import { ReplicationConnection } from "./replication";
import { startReplicationCommand } from "./replication-names";
import { DEBEZIUM_VERSION } from "./snapshot";
import type { SourceSettings } from "./source-config";
import type { SourceInfo, TableRecordBuilder, UnwrappedRecord } from "./unwrap";

/** How often, and how far apart, a relation's columns are looked up before a missing one is an error. */
const CATALOG_READ_ATTEMPTS = 50;
const CATALOG_RETRY_MS = 100;

export interface StreamHandlers {
  records(txSeq: number, records: UnwrappedRecord[]): void;
  /** The transaction committed; `endLsn` is what acknowledging it confirms. */
  commit(txSeq: number, endLsn: bigint, txId: number): void;
  error(err: Error): void;
}

/** How long connecting and START_REPLICATION together may take before the start-up fails. */
export const STREAM_START_TIMEOUT_MS = 30_000;

export class SlotStream {
  private connection: ReplicationConnection | undefined;
  private keepalive: (() => void) | undefined;
  private readonly builders = new Map<number, TableRecordBuilder | null>();
  /** Relations of the signalling table (its rows are signals, whether or not it is captured too). */
  private readonly signalRelations = new Set<number>();
  private backlog: { at: WalPosition; message: PgoutputMessage }[] | undefined;
  private held: Promise<void> | undefined;
  private tx: { seq: number; xid: number; commitUs: number } | undefined;
  private txSeq: number;
  private sequenceHead = "[null,";
  /** Set by finish(): called once no transaction is partly taken; from then on messages are dropped. */
  private finishing: (() => void) | undefined;
  private finished = false;

  constructor(
    private readonly settings: SourceSettings,
    private readonly catalog: pg.Client,
    private readonly makeBuilder: (info: TableInfo) => TableRecordBuilder,
    private readonly handlers: StreamHandlers,
    private readonly logger: Logger,
    start: { txSeq: number; lastCommitLsn: bigint | null },
    private readonly incremental?: IncrementalSnapshot,
  ) {
    this.txSeq = start.txSeq;
    this.setLastCommit(start.lastCommitLsn);
  }

  /**
   * Starts streaming at `fromLsn` (or the slot's confirmed position, whichever is later). A slot
   * still held by a previous, crashed process is retried like Debezium does
   * (`slot.max.retries` × `slot.retry.delay.ms`).
   */
  async start(clientConfig: pg.ClientConfig, fromLsn: bigint): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.subscribe(clientConfig, fromLsn);
        return;
      } catch (err) {
        const busy = /replication slot .* is active/.test((err as Error).message);
        if (!busy || attempt >= this.settings.slotMaxRetries) throw err;
        this.logger.warn({ err, attempt }, "replication slot busy, retrying");
        await new Promise((r) => setTimeout(r, this.settings.slotRetryDelayMs));
      }
    }
  }

  private async subscribe(clientConfig: pg.ClientConfig, fromLsn: bigint): Promise<void> {
    const decoder = new PgoutputDecoder();
    const connection = new ReplicationConnection(
      { ...clientConfig, options: SESSION_OPTIONS },
      {
        xlog: (high, low, data, start, end) => {
          if (this.finished) return;
          try {
            this.onMessage(new WalPosition(high, low), decoder.decode(data, start, end));
          } catch (err) {
            this.handlers.error(err as Error);
          }
        },
        keepalive: (replyRequested) => {
          if (replyRequested) this.keepalive?.();
        },
        error: (err) => this.handlers.error(err),
      },
    );
    const { host, port } = this.settings.database;
    // Acknowledged only by acknowledge(): what is durable, never automatically.
    const command = startReplicationCommand(this.settings.slotName, this.settings.publicationName, fromLsn);
    let timer: NodeJS.Timeout | undefined;
    // Connecting has its own timeout (the client config's); this bounds START_REPLICATION's answer too.
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `the replication stream from PostgreSQL at ${host}:${port} did not start within ${STREAM_START_TIMEOUT_MS / 1000} s`,
            ),
          ),
        STREAM_START_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([
        connection.start(command).catch((err: Error) => {
          throw new Error(`replication stream from PostgreSQL at ${host}:${port}: ${err.message}`, {
            cause: err,
          });
        }),
        timeout,
      ]);
    } catch (err) {
      void connection.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.connection = connection;
  }

  /**
   * Takes no transaction after the one being received: resolves once that one's commit is processed (at once
   * between transactions). Later messages are dropped, never acknowledged: the next run reads them. So a
   * clean stop hands the sink whole transactions only, each of which it can make durable.
   */
  finish(): Promise<void> {
    return new Promise((resolve) => {
      this.finishing = resolve;
      if (this.tx === undefined) this.end();
    });
  }

  private end(): void {
    this.finished = true;
    this.finishing?.();
  }

  /** Confirms to PostgreSQL that everything up to `lsn` is durable; also answers keepalives. */
  acknowledge(lsn: bigint): void {
    this.connection?.acknowledge(lsn);
  }

  /**
   * Stops reading the replication connection (PostgreSQL keeps decoding into the socket buffer)
   * so the file writer gets the event loop; resume() reads on. The library does the same in its
   * flow-control mode, which would instead await every message.
   */
  pause(): void {
    this.connection?.pause();
  }

  resume(): void {
    this.connection?.resume();
  }

  /** `handler` answers the server's keepalives that ask for a reply. */
  onKeepalive(handler: () => void): void {
    this.keepalive = handler;
  }

  async stop(): Promise<void> {
    await this.connection?.stop();
  }

  private onMessage(at: WalPosition, message: PgoutputMessage): void {
    if (this.finished) return;
    if (this.backlog) {
      this.backlog.push({ at, message });
      return;
    }
    try {
      this.process(at, message);
    } catch (err) {
      this.handlers.error(err as Error);
    }
  }

  private process(at: WalPosition, message: PgoutputMessage): void {
    switch (message.tag) {
      case "begin":
        if (this.finishing) {
          this.end();
          return;
        }
        this.txSeq += 1;
        this.tx = { seq: this.txSeq, xid: message.xid, commitUs: message.commitUs };
        return;
      case "commit": {
        const endLsn = message.endLsn ?? at.value();
        this.handlers.commit(this.tx!.seq, endLsn, this.tx!.xid);
        this.setLastCommit(endLsn);
        this.tx = undefined;
        if (this.finishing) this.end();
        return;
      }
      case "relation":
        this.loadRelation(message);
        return;
      case "insert":
      case "update":
      case "delete":
        this.change(at, message);
        return;
      case "truncate":
        this.logger.debug({ lsn: at.text }, "truncate skipped (skipped.operations)");
        return;
      default:
        return;
    }
  }

  private setLastCommit(lsn: bigint | null): void {
    // `source.sequence` is JSON of [last commit, this change] as decimal strings: its first half, once.
    this.sequenceHead = lsn === null ? "[null," : `["${lsn.toString()}",`;
  }

  /** Reads the table from the catalog, holding later messages back until it is known. */
  private loadRelation(relation: RelationMessage): void {
    const qualified = `${relation.schema}.${relation.name}`;
    // Debezium captures the signalling table whatever table.include.list says: its rows go to its topic.
    const signals = qualified === this.settings.signalTable;
    if (signals) this.signalRelations.add(relation.relationOid);
    if (!signals && !this.settings.tableInclude.some((re) => re.test(qualified))) {
      this.builders.set(relation.relationOid, null);
      return;
    }
    this.hold(
      this.readRelationInfo(relation).then((info) => {
        // The relation message is the truth for the column set and type modifiers at this point of the
        // WAL; a domain column has none there (-1), its modifier is the domain's, from the catalog.
        const columns = relation.columns.map((c) => {
          const known = info.columns.find((k) => k.name === c.name);
          if (!known) throw new Error(`column ${qualified}.${c.name} is no longer in the catalog`);
          const typmod = c.typeMod >= 0 ? c.typeMod : known.typmod;
          return { ...known, typmod, element: known.element && { ...known.element, typmod } };
        });
        this.builders.set(relation.relationOid, this.makeBuilder({ ...info, columns }));
      }),
    );
  }

  /**
   * Holds every later message back until `work` is done, then processes them in stream order: the
   * stream waits, as Debezium's streaming thread does while it reads the catalog or a snapshot chunk.
   */
  hold(work: Promise<void>): void {
    this.backlog ??= [];
    // Holds taken while one is pending run after it; the last one releases the backlog.
    const done = this.held ? this.held.then(() => work) : work;
    this.held = done;
    done
      .then(() => {
        if (this.held !== done) return;
        this.held = undefined;
        const pending = this.backlog ?? [];
        this.backlog = undefined;
        for (const { at, message } of pending) this.onMessage(at, message);
      })
      .catch((err: Error) => this.handlers.error(err));
  }

  /**
   * The table as the catalog shows it, once it holds every column of the relation message. Seen under load
   * (several runtimes on one server): the catalog read right after an ADD COLUMN's relation message did not
   * show the new column yet; it does on a later read, so read again for a while before giving up.
   */
  private async readRelationInfo(relation: RelationMessage): Promise<TableInfo> {
    for (let attempt = 1; ; attempt += 1) {
      const info = await readTableInfo(this.catalog, relation.schema, relation.name);
      const missing = relation.columns.filter((c) => !info.columns.some((k) => k.name === c.name));
      if (missing.length === 0 || attempt >= CATALOG_READ_ATTEMPTS) return info;
      await new Promise((resolve) => setTimeout(resolve, CATALOG_RETRY_MS));
    }
  }

  private change(at: WalPosition, message: InsertMessage | UpdateMessage | DeleteMessage): void {
    const relation = message.relation;
    if (message.tag === "insert" && this.incremental && this.signalRelations.has(relation.relationOid)) {
      const outcome = this.incremental.onSignal(
        message.new as unknown as SignalRow,
        this.source(at, relation),
      );
      this.handlers.records(this.tx!.seq, outcome.records);
      if (outcome.work) this.hold(outcome.work);
    }
    const builder = this.builders.get(relation.relationOid);
    if (!builder) return;
    const tx = this.tx!;
    const op = message.tag === "insert" ? "c" : message.tag === "update" ? "u" : "d";
    if (this.settings.skippedOperations.has(op)) return;
    const source = this.source(at, relation);
    const now = Date.now();
    let records: UnwrappedRecord[];
    if (message.tag === "insert") records = builder.read("c", message.new, now, source);
    else if (message.tag === "update")
      records = builder.update(message.key, message.old, message.new, now, source);
    else records = builder.delete((message.old ?? message.key)!, message.old === null, now, source);
    // A change shown while a snapshot chunk's window is open wins over the chunk's row of that key.
    if (this.incremental) {
      const keys =
        message.tag === "insert"
          ? [message.new]
          : message.tag === "update"
            ? [message.new, ...[message.key ?? message.old].filter((t) => t !== null)]
            : [(message.old ?? message.key)!];
      const key = builder.info.primaryKey;
      this.incremental.onChange(
        `${relation.schema}.${relation.name}`,
        keys.map((t) => key.map((c) => t[c] ?? null)),
      );
    }
    this.handlers.records(tx.seq, records);
  }

  /** The `source` block of an event at `at` of the current transaction. */
  private source(at: WalPosition, relation: RelationMessage): SourceInfo {
    const tx = this.tx!;
    return {
      version: DEBEZIUM_VERSION,
      connector: "postgresql",
      name: this.settings.topicPrefix,
      ts_ms: Math.floor(tx.commitUs / 1000),
      snapshot: null,
      db: this.settings.database.dbname,
      sequence: `${this.sequenceHead}"${at.text}"]`,
      ts_us: tx.commitUs,
      ts_ns: tx.commitUs * 1000,
      schema: relation.schema,
      table: relation.name,
      txId: tx.xid,
      lsn: at.lsn,
      xmin: null,
    };
  }
}
