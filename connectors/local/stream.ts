/**
 * Streams the replication slot with pgoutput and turns each change into Debezium's records.
 * Relation messages (re)build a table's schema from the catalog; messages that arrive while the
 * catalog is read wait in a backlog, so records stay in stream order without per-row awaits.
 */
import type pg from "pg";
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from "pg-logical-replication";
import type { Logger } from "pino";
import { readTableInfo, SESSION_OPTIONS, type TableInfo } from "./catalog";
import type { IncrementalSnapshot, SignalRow } from "./incremental";
import { formatLsn, parseLsn } from "./lsn";
import { DEBEZIUM_VERSION } from "./snapshot";
import type { SourceSettings } from "./source-config";
import type { SourceInfo, TableRecordBuilder, UnwrappedRecord } from "./unwrap";

/** How often, and how far apart, a relation's columns are looked up before a missing one is an error. */
const CATALOG_READ_ATTEMPTS = 50;
const CATALOG_RETRY_MS = 100;

/** pgoutput with the values left as PostgreSQL text (the library would parse them with pg's parsers). */
class RawTextPgoutput extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer) as Pgoutput.Message;
    if (message.tag === "relation")
      for (const column of message.columns) column.parser = (raw: unknown) => raw;
    return message;
  }
}

export interface StreamHandlers {
  records(txSeq: number, records: UnwrappedRecord[]): void;
  /** The transaction committed; `endLsn` is what acknowledging it confirms. */
  commit(txSeq: number, endLsn: bigint, txId: number): void;
  error(err: Error): void;
}

type Tuple = Record<string, string | null | undefined>;

/** How long connecting and START_REPLICATION together may take before the start-up fails. */
export const STREAM_START_TIMEOUT_MS = 30_000;

export class SlotStream {
  private service: LogicalReplicationService | undefined;
  private readonly builders = new Map<number, TableRecordBuilder | null>();
  /** Relations of the signalling table (its rows are signals, whether or not it is captured too). */
  private readonly signalRelations = new Set<number>();
  private backlog: { lsn: string; message: Pgoutput.Message }[] | undefined;
  private held: Promise<void> | undefined;
  private tx: { seq: number; xid: number; commitUs: number } | undefined;
  private txSeq: number;
  private lastCommitLsn: bigint | null;
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
    this.lastCommitLsn = start.lastCommitLsn;
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
    const service = new LogicalReplicationService(
      { ...clientConfig, options: SESSION_OPTIONS },
      // Acknowledge only what is durable: no automatic or periodic acknowledgement.
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    const plugin = new RawTextPgoutput({
      protoVersion: 1,
      publicationNames: [this.settings.publicationName],
    });
    service.on("data", (lsn: string, message: Pgoutput.Message) => this.onMessage(lsn, message));
    const { host, port } = this.settings.database;
    await new Promise<void>((resolve, reject) => {
      // Connecting has its own timeout (the client config's); this bounds START_REPLICATION's answer too.
      const timer = setTimeout(() => {
        void service.stop().catch(() => undefined);
        reject(
          new Error(
            `the replication stream from PostgreSQL at ${host}:${port} did not start within ${STREAM_START_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, STREAM_START_TIMEOUT_MS);
      service.once("start", () => {
        clearTimeout(timer);
        resolve();
      });
      service.subscribe(plugin, this.settings.slotName, formatLsn(fromLsn)).catch((err: Error) => {
        clearTimeout(timer);
        reject(
          new Error(`replication stream from PostgreSQL at ${host}:${port}: ${err.message}`, { cause: err }),
        );
      });
    });
    service.on("error", (err: Error) => this.handlers.error(err));
    this.service = service;
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
    void this.service?.acknowledge(formatLsn(lsn));
  }

  /**
   * Stops reading the replication connection (PostgreSQL keeps decoding into the socket buffer)
   * so the file writer gets the event loop; resume() reads on. The library does the same in its
   * flow-control mode, which would instead await every message.
   */
  pause(): void {
    this.socket()?.pause();
  }

  resume(): void {
    this.socket()?.resume();
  }

  private socket(): { pause(): void; resume(): void } | undefined {
    const internals = this.service as unknown as {
      _connection?: { stream?: { pause(): void; resume(): void } };
    };
    return internals?._connection?.stream;
  }

  onKeepalive(handler: () => void): void {
    this.service?.on("heartbeat", (_lsn: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) handler();
    });
  }

  async stop(): Promise<void> {
    await this.service?.stop().catch(() => undefined);
  }

  private onMessage(lsn: string, message: Pgoutput.Message): void {
    if (this.finished) return;
    if (this.backlog) {
      this.backlog.push({ lsn, message });
      return;
    }
    try {
      this.process(lsn, message);
    } catch (err) {
      this.handlers.error(err as Error);
    }
  }

  private process(lsn: string, message: Pgoutput.Message): void {
    switch (message.tag) {
      case "begin":
        if (this.finishing) {
          this.end();
          return;
        }
        this.txSeq += 1;
        this.tx = { seq: this.txSeq, xid: message.xid, commitUs: Number(message.commitTime) };
        return;
      case "commit": {
        const endLsn = parseLsn(message.commitEndLsn ?? lsn);
        this.handlers.commit(this.tx!.seq, endLsn, this.tx!.xid);
        this.lastCommitLsn = endLsn;
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
        this.change(parseLsn(lsn), message);
        return;
      case "truncate":
        this.logger.debug({ lsn }, "truncate skipped (skipped.operations)");
        return;
      default:
        return;
    }
  }

  /** Reads the table from the catalog, holding later messages back until it is known. */
  private loadRelation(relation: Pgoutput.MessageRelation): void {
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
        for (const { lsn, message } of pending) this.onMessage(lsn, message);
      })
      .catch((err: Error) => this.handlers.error(err));
  }

  /**
   * The table as the catalog shows it, once it holds every column of the relation message. Seen under load
   * (several runtimes on one server): the catalog read right after an ADD COLUMN's relation message did not
   * show the new column yet; it does on a later read, so read again for a while before giving up.
   */
  private async readRelationInfo(relation: Pgoutput.MessageRelation): Promise<TableInfo> {
    for (let attempt = 1; ; attempt += 1) {
      const info = await readTableInfo(this.catalog, relation.schema, relation.name);
      const missing = relation.columns.filter((c) => !info.columns.some((k) => k.name === c.name));
      if (missing.length === 0 || attempt >= CATALOG_READ_ATTEMPTS) return info;
      await new Promise((resolve) => setTimeout(resolve, CATALOG_RETRY_MS));
    }
  }

  private change(
    lsn: bigint,
    message: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete,
  ): void {
    const relation = message.relation;
    if (message.tag === "insert" && this.incremental && this.signalRelations.has(relation.relationOid)) {
      const outcome = this.incremental.onSignal(
        message.new as unknown as SignalRow,
        this.source(lsn, relation),
      );
      this.handlers.records(this.tx!.seq, outcome.records);
      if (outcome.work) this.hold(outcome.work);
    }
    const builder = this.builders.get(relation.relationOid);
    if (!builder) return;
    const tx = this.tx!;
    const op = message.tag === "insert" ? "c" : message.tag === "update" ? "u" : "d";
    if (this.settings.skippedOperations.has(op)) return;
    const source = this.source(lsn, relation);
    const now = Date.now();
    let records: UnwrappedRecord[];
    let keys: Tuple[];
    if (message.tag === "insert") {
      records = builder.read("c", message.new as Tuple, now, source);
      keys = [message.new as Tuple];
    } else if (message.tag === "update") {
      records = builder.update(
        message.key as Tuple | null,
        message.old as Tuple | null,
        message.new as Tuple,
        now,
        source,
      );
      keys = [message.new as Tuple, ...[message.key ?? message.old].filter((t) => t !== null)] as Tuple[];
    } else {
      const before = (message.old ?? message.key) as Tuple;
      records = builder.delete(before, message.old === null, now, source);
      keys = [before];
    }
    // A change shown while a snapshot chunk's window is open wins over the chunk's row of that key.
    const key = builder.info.primaryKey;
    this.incremental?.onChange(
      `${relation.schema}.${relation.name}`,
      keys.map((t) => key.map((c) => t[c] ?? null)),
    );
    this.handlers.records(tx.seq, records);
  }

  /** The `source` block of an event at `lsn` of the current transaction. */
  private source(lsn: bigint, relation: Pgoutput.MessageRelation): SourceInfo {
    const tx = this.tx!;
    return {
      version: DEBEZIUM_VERSION,
      connector: "postgresql",
      name: this.settings.topicPrefix,
      ts_ms: Math.floor(tx.commitUs / 1000),
      snapshot: null,
      db: this.settings.database.dbname,
      sequence: JSON.stringify([
        this.lastCommitLsn === null ? null : this.lastCommitLsn.toString(),
        lsn.toString(),
      ]),
      ts_us: tx.commitUs,
      ts_ns: tx.commitUs * 1000,
      schema: relation.schema,
      table: relation.name,
      txId: tx.xid,
      lsn: Number(lsn),
      xmin: null,
    };
  }
}
