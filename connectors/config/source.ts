import { z } from "zod";
import { converterConfig } from "./converters";
import { PIPELINE_DEFAULTS } from "./defaults";
import type { ConnectorConfig } from "./types";
import {
  identifier,
  parseSettings,
  positiveInt,
  qualifiedTable,
  secretPlaceholder,
  tableList,
  topicName,
} from "./validation";

export const DEBEZIUM_POSTGRES_CONNECTOR_CLASS = "io.debezium.connector.postgresql.PostgresConnector";
export const EXTRACT_NEW_RECORD_STATE_CLASS = "io.debezium.transforms.ExtractNewRecordState";

/**
 * Metadata the unwrap SMT copies into each row (`__op`, `__table`, `__lsn`, `__txId`,
 * `__source_ts_ms`, `__sequence`): what the SCD2 job orders and dates versions by.
 */
/** Debezium's default chunk size, kept: a chunk is read while the stream waits, so bigger is not better. */
export const INCREMENTAL_SNAPSHOT_CHUNK_SIZE = 1024;

/**
 * The watermarking strategy: an open and a close row per chunk, both read back from the stream, so
 * every change committed while a chunk was read is seen between them and wins over the chunk's row.
 */
export const WATERMARKING_STRATEGY = "insert_insert";

export const UNWRAP_ADD_FIELDS = ["op", "table", "lsn", "txId", "source.ts_ms", "sequence"] as const;

export const sourceSettingsSchema = z
  .strictObject({
    /** Connector name. Defaults to `cdc-postgres-source`. */
    name: z.string().min(1).default(PIPELINE_DEFAULTS.sourceConnectorName),
    database: z.strictObject({
      /** Host name or address the Connect workers reach PostgreSQL at. */
      hostname: z.string().min(1, "must not be empty"),
      /** Defaults to 5432. */
      port: z.number().int().min(1).max(65535).default(5432),
      /** Database that holds the captured tables. */
      dbname: z.string().min(1, "must not be empty"),
      /** Login role of the connector. Defaults to `cdc_connector`. */
      user: identifier.default(PIPELINE_DEFAULTS.cdcRole),
      /** Config-provider placeholder that the Connect worker resolves; never the password itself. */
      password: secretPlaceholder,
      /** `database.sslmode`. Defaults to `require` (RDS forces TLS); use `disable` for a local server. */
      sslMode: z
        .enum(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
        .default("require"),
      /**
       * `database.sslrootcert`: a PEM file of the certificate authorities on the worker, which
       * verify-ca and verify-full check the server against. Unset by default.
       */
      sslRootCert: z.string().startsWith("/", "must be an absolute path on the worker").optional(),
    }),
    /** Captured tables, `schema.table`. Defaults to `commerce.products`, `commerce.users`. */
    tables: tableList.default([...PIPELINE_DEFAULTS.tables]),
    /** Defaults to `cdc`. */
    topicPrefix: topicName.default(PIPELINE_DEFAULTS.topicPrefix),
    /** Existing logical replication slot. Defaults to `cdc_slot`. */
    slotName: identifier.default(PIPELINE_DEFAULTS.slotName),
    /** Existing publication (the stack creates it). Defaults to `cdc_publication`. */
    publicationName: identifier.default(PIPELINE_DEFAULTS.publicationName),
    heartbeat: z
      .strictObject({
        /** Defaults to 10 s. */
        intervalMs: positiveInt.default(PIPELINE_DEFAULTS.heartbeatIntervalMs),
        /** Table the action query upserts into; it must be in the publication. */
        table: qualifiedTable.default(PIPELINE_DEFAULTS.heartbeatTable),
      })
      .default({
        intervalMs: PIPELINE_DEFAULTS.heartbeatIntervalMs,
        table: PIPELINE_DEFAULTS.heartbeatTable,
      }),
    signal: z
      .strictObject({
        /**
         * Debezium's signalling table (`signal.data.collection`, read through the publication: the
         * `source` channel). Defaults to `commerce.cdc_signal`.
         */
        table: qualifiedTable.default(PIPELINE_DEFAULTS.signalTable),
        /** Rows per incremental-snapshot chunk (`incremental.snapshot.chunk.size`). Defaults to 1024. */
        chunkSize: positiveInt.default(INCREMENTAL_SNAPSHOT_CHUNK_SIZE),
      })
      .default({ table: PIPELINE_DEFAULTS.signalTable, chunkSize: INCREMENTAL_SNAPSHOT_CHUNK_SIZE }),
    /** Defaults to `initial`: snapshot the tables when no offsets exist, then stream. */
    snapshotMode: z.enum(["initial", "no_data", "when_needed", "always", "initial_only"]).default("initial"),
    /** Defaults to `precise` (Decimal bytes; DECIMAL(p,s) in Parquet). */
    decimalHandlingMode: z.enum(["precise", "double", "string"]).default("precise"),
    /** Defaults to `adaptive` (micro-second timestamps as INT64). */
    timePrecisionMode: z.enum(["adaptive", "adaptive_time_microseconds", "connect"]).default("adaptive"),
  })
  .refine((s) => !s.tables.includes(s.heartbeat.table), {
    path: ["heartbeat", "table"],
    error: "must not be one of the captured tables (it is in the publication only to move the slot)",
  })
  .refine((s) => !s.tables.includes(s.signal.table) && s.signal.table !== s.heartbeat.table, {
    path: ["signal", "table"],
    error: "must be a table of its own, neither captured nor the heartbeat table",
  })
  .refine((s) => !s.database.sslMode.startsWith("verify-") || s.database.sslRootCert !== undefined, {
    path: ["database", "sslRootCert"],
    error: "is needed with sslMode verify-ca or verify-full (the CAs to verify the server against)",
  });

export type SourceSettingsInput = z.input<typeof sourceSettingsSchema>;
export type SourceSettings = z.output<typeof sourceSettingsSchema>;

/**
 * The statement the connector runs on every heartbeat. The heartbeat table (id int primary key,
 * beat_at timestamptz) is defined in connectors/database; the change it makes travels through the
 * publication, so the slot advances even when the captured tables are idle.
 */
export function heartbeatActionQuery(table: string): string {
  return `INSERT INTO ${table} (id, beat_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at`;
}

/** The Debezium 3.x PostgreSQL source connector (pgoutput) with the unwrap SMT. */
export function buildSourceConnector(input: SourceSettingsInput): ConnectorConfig {
  const s = parseSettings("source connector settings", sourceSettingsSchema, input);
  return {
    name: s.name,
    config: {
      "connector.class": DEBEZIUM_POSTGRES_CONNECTOR_CLASS,
      "tasks.max": "1",
      "plugin.name": "pgoutput",
      "database.hostname": s.database.hostname,
      "database.port": String(s.database.port),
      "database.user": s.database.user,
      "database.password": s.database.password,
      "database.dbname": s.database.dbname,
      "database.sslmode": s.database.sslMode,
      ...(s.database.sslRootCert === undefined ? {} : { "database.sslrootcert": s.database.sslRootCert }),
      "topic.prefix": s.topicPrefix,
      "table.include.list": s.tables.join(","),
      "slot.name": s.slotName,
      "publication.name": s.publicationName,
      // The stack owns the publication; the connector must neither create nor alter it.
      "publication.autocreate.mode": "disabled",
      "snapshot.mode": s.snapshotMode,
      "decimal.handling.mode": s.decimalHandlingMode,
      "time.precision.mode": s.timePrecisionMode,
      "heartbeat.interval.ms": String(s.heartbeat.intervalMs),
      "heartbeat.action.query": heartbeatActionQuery(s.heartbeat.table),
      // Re-snapshots on request (execute-snapshot rows in the signalling table), chunked and
      // interleaved with the stream; the table is in the publication, so rows reach the connector.
      "signal.enabled.channels": "source",
      "signal.data.collection": s.signal.table,
      "incremental.snapshot.chunk.size": String(s.signal.chunkSize),
      "incremental.snapshot.watermarking.strategy": WATERMARKING_STRATEGY,
      ...converterConfig(),
      transforms: "unwrap",
      "transforms.unwrap.type": EXTRACT_NEW_RECORD_STATE_CLASS,
      // Debezium 3.2+ defaults to `tombstone`, which turns deletes into null values that the
      // S3 sink cannot write: keep deletes as rows with __deleted=true and drop the tombstones.
      "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
      "transforms.unwrap.add.fields": UNWRAP_ADD_FIELDS.join(","),
      "errors.tolerance": "none",
    },
  };
}
