/** The Debezium PostgreSQL source config, as far as the local runtime interprets it. */
import {
  DEBEZIUM_POSTGRES_CONNECTOR_CLASS,
  EXTRACT_NEW_RECORD_STATE_CLASS,
  JSON_CONVERTER_CLASS,
} from "../config";
import type { DatabaseSslMode } from "../database";
import { ConfigReader, normalizeConnectorInput } from "./connector-input";
import type { TypeModes } from "./pg-types";
import { publicationNameProblem, slotNameProblem } from "./replication-names";
import type { DeleteHandling, UnwrapSettings } from "./unwrap";

export type SnapshotMode = "initial" | "no_data" | "always" | "initial_only" | "when_needed";

export interface SourceSettings {
  name: string;
  database: {
    host: string;
    port: number;
    user: string;
    password: string;
    dbname: string;
    /** `allow`/`prefer` connect without TLS here (a fallback Debezium's driver may also take). */
    sslMode: DatabaseSslMode;
    /** `database.sslrootcert`: the PEM file verify-ca/verify-full check the server against. */
    sslRootCert: string | undefined;
    /** `database.query.timeout.ms`: how long one query may take; 0 means no limit. */
    queryTimeoutMs: number;
  };
  topicPrefix: string;
  tableInclude: RegExp[];
  slotName: string;
  publicationName: string;
  snapshotMode: SnapshotMode;
  modes: TypeModes;
  heartbeatIntervalMs: number;
  heartbeatActionQuery: string | undefined;
  /** `<topic.heartbeat.prefix>.<topic.prefix>`: where heartbeat records go. */
  heartbeatTopic: string;
  skippedOperations: Set<string>;
  unwrap: UnwrapSettings;
  /** Whether the JsonConverter carries a Connect schema (needed by ParquetFormat). */
  valueSchemas: boolean;
  snapshotFetchSize: number;
  /** `signal.data.collection` (`schema.table`), read through the stream; undefined: no signals. */
  signalTable: string | undefined;
  /** `incremental.snapshot.chunk.size`. */
  chunkSize: number;
  slotMaxRetries: number;
  slotRetryDelayMs: number;
}

/** Keys accepted without a local effect (Kafka/worker tuning, error reporting, key converters). */
export const SOURCE_NO_EFFECT_KEYS = [
  "tasks.max",
  "errors.tolerance",
  "errors.log.enable",
  "errors.log.include.messages",
  "errors.retry.timeout",
  "errors.retry.delay.max.ms",
  "poll.interval.ms",
  "max.batch.size",
  "max.queue.size",
  "max.queue.size.in.bytes",
  "status.update.interval.ms",
  "key.converter",
  "key.converter.schemas.enable",
] as const;
export const SOURCE_NO_EFFECT_PREFIXES = ["topic.creation."] as const;

const DELETE_MODES: readonly DeleteHandling[] = [
  "drop",
  "tombstone",
  "rewrite",
  "rewrite-with-tombstone",
  "delete-to-tombstone",
];
const SOURCE_FIELDS = [
  "version",
  "connector",
  "name",
  "ts_ms",
  "snapshot",
  "db",
  "sequence",
  "ts_us",
  "ts_ns",
];
const PG_SOURCE_FIELDS = [...SOURCE_FIELDS, "schema", "table", "txId", "lsn", "xmin"];

/** `add.fields`: unqualified envelope/source names or `source.<field>`. */
function parseAddFields(reader: ConfigReader, key: string): string[] {
  const text = reader.string(key, "");
  const fields = text === "" ? [] : text.split(",").map((f) => f.trim());
  for (const field of fields) {
    const [struct, name] = field.includes(".") ? field.split(".", 2) : [undefined, field];
    const known =
      struct === undefined
        ? ["op", "ts_ms", ...PG_SOURCE_FIELDS].includes(name!)
        : struct === "source" && PG_SOURCE_FIELDS.includes(name!);
    if (!known) reader.fail(`config key "${key}": unknown field "${field}"`);
  }
  return fields;
}

function parseUnwrap(reader: ConfigReader, tombstonesOnDelete: boolean, placeholder: string): UnwrapSettings {
  const transforms = reader
    .string("transforms", "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (transforms.length !== 1) {
    reader.fail(
      `config key "transforms": the local runtime runs exactly one transform (ExtractNewRecordState), got "${transforms.join(",")}"`,
    );
  }
  const p = `transforms.${transforms[0]}.`;
  const type = reader.string(`${p}type`);
  if (type !== EXTRACT_NEW_RECORD_STATE_CLASS)
    reader.fail(
      `config key "${p}type" = "${type}" is not supported locally (only ${EXTRACT_NEW_RECORD_STATE_CLASS})`,
    );
  for (const legacy of ["delete.handling.mode", "drop.tombstones"]) {
    if (reader.has(p + legacy)) {
      reader.fail(
        `config key "${p}${legacy}" was removed in Debezium 3.2: use "${p}delete.tombstone.handling.mode"`,
      );
    }
  }
  // Headers are not written by the S3 sink: accepted, no effect.
  reader.accept([`${p}add.headers`, `${p}add.headers.prefix`]);
  return {
    deleteHandling: reader.oneOf(`${p}delete.tombstone.handling.mode`, DELETE_MODES, "tombstone"),
    addFields: parseAddFields(reader, `${p}add.fields`),
    prefix: reader.string(`${p}add.fields.prefix`, "__"),
    tombstonesOnDelete,
    placeholder,
  };
}

/**
 * Debezium `table.include.list`: comma-separated regular expressions matched (whole, ignoring case)
 * against `schema.table`, in the given order (the snapshot follows it).
 */
function includeList(text: string): RegExp[] {
  return text.split(",").map((t) => new RegExp(`^(?:${t.trim()})$`, "i"));
}

/**
 * The signalling table: only the `source` channel (rows of `signal.data.collection` read from the
 * stream) and the `insert_insert` watermarks are emulated; both are Debezium's defaults.
 */
function parseSignalTable(r: ConfigReader): string | undefined {
  const channels = r
    .string("signal.enabled.channels", "source")
    .split(",")
    .map((c) => c.trim());
  if (channels.length !== 1 || channels[0] !== "source")
    r.fail(
      `config key "signal.enabled.channels" = "${channels.join(",")}" is not supported locally (supported: source)`,
    );
  r.oneOf("incremental.snapshot.watermarking.strategy", ["insert_insert"], "insert_insert");
  const table = r.optional("signal.data.collection");
  if (table !== undefined && table.split(".").length !== 2)
    r.fail(`config key "signal.data.collection" = "${table}" must be <schema>.<table>`);
  return table;
}

/** A name that goes into SQL: refused, naming the key and the rule, when PostgreSQL would refuse it. */
function checkedName(
  r: ConfigReader,
  key: string,
  fallback: string,
  problem: (name: string) => string | undefined,
): string {
  const name = r.string(key, fallback);
  const rule = problem(name);
  if (rule !== undefined) r.fail(`config key "${key}" = ${JSON.stringify(name)} is not valid: ${rule}`);
  return name;
}

/** libpq's `allow` and `prefer` try without TLS first: here they mean no TLS. */
function sslModeOf(mode: string): DatabaseSslMode {
  return mode === "allow" || mode === "prefer" ? "disable" : (mode as DatabaseSslMode);
}

export function parseSourceConfig(input: unknown): SourceSettings {
  const { name, config } = normalizeConnectorInput(input, "source connector");
  const r = new ConfigReader(name, config);
  const connectorClass = r.string("connector.class");
  if (connectorClass !== DEBEZIUM_POSTGRES_CONNECTOR_CLASS)
    r.fail(`connector.class must be ${DEBEZIUM_POSTGRES_CONNECTOR_CLASS}`);
  if (r.int("tasks.max", 1, 1) !== 1)
    r.fail('config key "tasks.max": the PostgreSQL connector runs one task');
  r.oneOf("plugin.name", ["pgoutput"]);
  r.oneOf("publication.autocreate.mode", ["disabled"], "all_tables");
  r.oneOf("provide.transaction.metadata", ["false"], "false");
  r.oneOf("include.unknown.datatypes", ["false"], "false");
  r.oneOf("slot.drop.on.stop", ["false"], "false");
  r.oneOf("errors.tolerance", ["none", "all"], "none");
  // JsonConverter only: the pipeline runs no schema registry, which the other converters need.
  r.oneOf("value.converter", [JSON_CONVERTER_CLASS], JSON_CONVERTER_CLASS);
  const valueSchemas = r.bool("value.converter.schemas.enable", true);
  const skipped = r.string("skipped.operations", "t");
  const skippedOperations = new Set(skipped === "none" ? [] : skipped.split(",").map((s) => s.trim()));
  for (const op of skippedOperations)
    if (!["c", "u", "d", "t"].includes(op))
      r.fail(`config key "skipped.operations": unknown operation "${op}"`);
  const tombstonesOnDelete = r.bool("tombstones.on.delete", true);
  const placeholder = r.string("unavailable.value.placeholder", "__debezium_unavailable_value");
  const topicPrefix = r.string("topic.prefix");
  const settings: SourceSettings = {
    name,
    database: {
      host: r.string("database.hostname"),
      port: r.int("database.port", 5432, 1),
      user: r.string("database.user"),
      password: r.string("database.password", ""),
      dbname: r.string("database.dbname"),
      sslMode: sslModeOf(
        r.oneOf(
          "database.sslmode",
          ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
          "prefer",
        ),
      ),
      sslRootCert: r.optional("database.sslrootcert"),
      queryTimeoutMs: r.int("database.query.timeout.ms", 600_000, 0),
    },
    topicPrefix,
    tableInclude: includeList(r.string("table.include.list", ".*")),
    slotName: checkedName(r, "slot.name", "debezium", slotNameProblem),
    publicationName: checkedName(r, "publication.name", "dbz_publication", publicationNameProblem),
    snapshotMode: r.oneOf(
      "snapshot.mode",
      ["initial", "no_data", "always", "initial_only", "when_needed"],
      "initial",
    ),
    modes: {
      decimalHandlingMode: r.oneOf("decimal.handling.mode", ["precise", "double", "string"], "precise"),
      timePrecisionMode: r.oneOf(
        "time.precision.mode",
        ["adaptive", "adaptive_time_microseconds", "connect"],
        "adaptive",
      ),
      binaryHandlingMode: r.oneOf(
        "binary.handling.mode",
        ["bytes", "base64", "base64-url-safe", "hex"],
        "bytes",
      ),
      intervalHandlingMode: r.oneOf("interval.handling.mode", ["numeric", "string"], "numeric"),
      moneyFractionDigits: r.int("money.fraction.digits", 2, 0),
      hstoreHandlingMode: r.oneOf("hstore.handling.mode", ["json", "map"], "json"),
    },
    heartbeatIntervalMs: r.int("heartbeat.interval.ms", 0),
    heartbeatActionQuery: r.optional("heartbeat.action.query"),
    heartbeatTopic: `${r.string("topic.heartbeat.prefix", "__debezium-heartbeat")}.${topicPrefix}`,
    skippedOperations,
    unwrap: parseUnwrap(r, tombstonesOnDelete, placeholder),
    valueSchemas,
    snapshotFetchSize: r.int("snapshot.fetch.size", 10240, 1),
    signalTable: parseSignalTable(r),
    chunkSize: r.int("incremental.snapshot.chunk.size", 1024, 1),
    slotMaxRetries: r.int("slot.max.retries", 6),
    slotRetryDelayMs: r.int("slot.retry.delay.ms", 10_000),
  };
  if (settings.database.sslMode.startsWith("verify-") && settings.database.sslRootCert === undefined)
    r.fail(
      `config key "database.sslmode" = "${settings.database.sslMode}" needs "database.sslrootcert" ` +
        "(the certificate authorities to verify the server against)",
    );
  r.accept(SOURCE_NO_EFFECT_KEYS, SOURCE_NO_EFFECT_PREFIXES);
  r.rejectUnknown();
  return settings;
}
