/**
 * The configuration keys each component documents, kept as data so a test (and anyone else) can
 * check that a generated config holds no key the real connector would reject or silently ignore.
 */
import { EXTRACT_NEW_RECORD_STATE_CLASS, JSON_CONVERTER_CLASS } from "../../../connectors/config";

/**
 * Kafka Connect connector-level configs (Apache Kafka `ConnectorConfig`, `SourceConnectorConfig`,
 * `SinkConnectorConfig`). Source: https://kafka.apache.org/documentation/#connectconfigs and
 * https://docs.confluent.io/platform/current/installation/configuration/connect/sink-connect-configs.html
 */
export const KAFKA_CONNECT_COMMON_KEYS = [
  "name",
  "connector.class",
  "tasks.max",
  "key.converter",
  "value.converter",
  "header.converter",
  "config.action.reload",
  "transforms",
  "predicates",
  "errors.retry.timeout",
  "errors.retry.delay.max.ms",
  "errors.tolerance",
  "errors.log.enable",
  "errors.log.include.messages",
] as const;

export const KAFKA_CONNECT_SOURCE_KEYS = [
  "topic.creation.groups",
  "exactly.once.support",
  "transaction.boundary",
  "transaction.boundary.interval.ms",
  "offsets.storage.topic",
] as const;

export const KAFKA_CONNECT_SINK_KEYS = [
  "topics",
  "topics.regex",
  "errors.deadletterqueue.topic.name",
  "errors.deadletterqueue.topic.replication.factor",
  "errors.deadletterqueue.context.headers.enable",
] as const;

/**
 * Debezium PostgreSQL connector properties (required and advanced).
 * Source: https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-connector-properties
 * (debezium/debezium documentation/modules/ROOT/pages/connectors/postgresql.adoc).
 */
export const DEBEZIUM_POSTGRES_KEYS = [
  "plugin.name",
  "slot.name",
  "slot.drop.on.stop",
  "publication.name",
  "publication.autocreate.mode",
  "replica.identity.autoset.values",
  "database.hostname",
  "database.port",
  "database.user",
  "database.password",
  "database.dbname",
  "database.sslmode",
  "database.sslcert",
  "database.sslkey",
  "database.sslpassword",
  "database.sslrootcert",
  "database.tcpKeepAlive",
  "database.initial.statements",
  "database.query.timeout.ms",
  "topic.prefix",
  "topic.naming.strategy",
  "topic.delimiter",
  "topic.cache.size",
  "topic.heartbeat.prefix",
  "topic.transaction",
  "schema.include.list",
  "schema.exclude.list",
  "table.include.list",
  "table.exclude.list",
  "column.include.list",
  "column.exclude.list",
  "skip.messages.without.change",
  "time.precision.mode",
  "decimal.handling.mode",
  "hstore.handling.mode",
  "interval.handling.mode",
  "binary.handling.mode",
  "money.fraction.digits",
  "tombstones.on.delete",
  "column.propagate.source.type",
  "datatype.propagate.source.type",
  "message.key.columns",
  "message.prefix.include.list",
  "message.prefix.exclude.list",
  "schema.name.adjustment.mode",
  "field.name.adjustment.mode",
  "converters",
  "snapshot.mode",
  "snapshot.mode.configuration.based.snapshot.data",
  "snapshot.mode.configuration.based.snapshot.schema",
  "snapshot.mode.configuration.based.start.stream",
  "snapshot.mode.configuration.based.snapshot.on.schema.error",
  "snapshot.mode.configuration.based.snapshot.on.data.error",
  "snapshot.mode.custom.name",
  "snapshot.locking.mode",
  "snapshot.locking.mode.custom.name",
  "snapshot.query.mode",
  "snapshot.query.mode.custom.name",
  "snapshot.include.collection.list",
  "snapshot.lock.timeout.ms",
  "snapshot.select.statement.overrides",
  "snapshot.delay.ms",
  "snapshot.fetch.size",
  "snapshot.max.threads",
  "streaming.delay.ms",
  "event.processing.failure.handling.mode",
  "max.batch.size",
  "max.queue.size",
  "max.queue.size.in.bytes",
  "poll.interval.ms",
  "include.unknown.datatypes",
  "status.update.interval.ms",
  "heartbeat.interval.ms",
  "heartbeat.action.query",
  "schema.refresh.mode",
  "slot.stream.params",
  "slot.max.retries",
  "slot.retry.delay.ms",
  "unavailable.value.placeholder",
  "provide.transaction.metadata",
  "flush.lsn.source",
  "retriable.restart.connector.wait.ms",
  "skipped.operations",
  "signal.data.collection",
  "signal.enabled.channels",
  "notification.enabled.channels",
  "incremental.snapshot.chunk.size",
  "incremental.snapshot.watermarking.strategy",
  "read.only",
  "xmin.fetch.interval.ms",
  "custom.metric.tags",
  "errors.max.retries",
] as const;

/** Debezium properties whose names embed a value (`column.truncate.to.20.chars`). Same source. */
export const DEBEZIUM_POSTGRES_KEY_PATTERNS = [
  /^column\.truncate\.to\.\d+\.chars$/,
  /^column\.mask\.with\.\d+\.chars$/,
  /^column\.mask\.hash\.(v2\.)?[^.]+\.with\.salt\..+$/,
  /^snapshot\.select\.statement\.overrides\.[^.]+\.[^.]+$/,
] as const;

/**
 * ExtractNewRecordState options, Debezium 3.2+ (the legacy `delete.handling.mode` and
 * `drop.tombstones` are removed). Source: https://debezium.io/documentation/reference/stable/transformations/event-flattening.html
 * (debezium-core ExtractNewRecordStateConfigDefinition).
 */
export const EXTRACT_NEW_RECORD_STATE_KEYS = [
  "delete.tombstone.handling.mode",
  "route.by.field",
  "add.fields.prefix",
  "add.fields",
  "add.headers.prefix",
  "add.headers",
  "replace.null.with.default",
] as const;

/**
 * Confluent S3 sink properties (S3SinkConnectorConfig, StorageSinkConnectorConfig, StorageCommonConfig,
 * PartitionerConfig). Source: https://docs.confluent.io/kafka-connectors/s3-sink/current/configuration_options.html
 */
export const S3_SINK_KEYS = [
  "format.class",
  "flush.size",
  "rotate.interval.ms",
  "rotate.schedule.interval.ms",
  "schema.compatibility",
  "schema.cache.size",
  "enhanced.avro.schema.support",
  "connect.meta.data",
  "avro.codec",
  "parquet.codec",
  "retry.backoff.ms",
  "filename.offset.zero.pad.width",
  "s3.bucket.name",
  "s3.object.tagging",
  "s3.object.tagging.key.value.pairs",
  "s3.object.behavior.on.tagging.error",
  "s3.region",
  "s3.part.size",
  "s3.credentials.provider.class",
  "aws.access.key.id",
  "aws.secret.access.key",
  "s3.ssea.name",
  "s3.sse.customer.key",
  "s3.sse.kms.key.id",
  "s3.acl.canned",
  "s3.wan.mode",
  "s3.compression.type",
  "s3.compression.level",
  "s3.part.retries",
  "s3.retry.backoff.ms",
  "s3.proxy.url",
  "s3.proxy.user",
  "s3.proxy.password",
  "s3.http.send.expect.continue",
  "s3.path.style.access.enabled",
  "s3.send.digest",
  "s3.elastic.buffer.enable",
  "s3.elastic.buffer.init.capacity",
  "s3.schema.partition.affix.type",
  "format.bytearray.extension",
  "format.bytearray.separator",
  "behavior.on.null.values",
  "json.decimal.format",
  "store.kafka.keys",
  "store.kafka.headers",
  "keys.format.class",
  "headers.format.class",
  "tombstone.encoded.partition",
  "storage.class",
  "topics.dir",
  "store.url",
  "directory.delim",
  "file.delim",
  "partitioner.class",
  "partition.field.name",
  "partition.duration.ms",
  "path.format",
  "locale",
  "timezone",
  "timestamp.extractor",
  "timestamp.field",
] as const;

/**
 * Converter options, passed as `key.converter.<option>` / `value.converter.<option>`.
 * JsonConverter: Apache Kafka `JsonConverterConfig` (the only converter the pipeline uses).
 */
export const CONVERTER_KEYS: Record<string, readonly string[]> = {
  [JSON_CONVERTER_CLASS]: [
    "schemas.enable",
    "schemas.cache.size",
    "decimal.format",
    "replace.null.with.default",
  ],
};

/** Options of the transforms we use, by transform class (`transforms.<alias>.<option>`). */
export const TRANSFORM_KEYS: Record<string, readonly string[]> = {
  [EXTRACT_NEW_RECORD_STATE_CLASS]: EXTRACT_NEW_RECORD_STATE_KEYS,
};

export type ConnectorKind = "debezium-postgres" | "s3-sink";

const KEYS_BY_KIND: Record<ConnectorKind, ReadonlySet<string>> = {
  "debezium-postgres": new Set([
    ...KAFKA_CONNECT_COMMON_KEYS,
    ...KAFKA_CONNECT_SOURCE_KEYS,
    ...DEBEZIUM_POSTGRES_KEYS,
  ]),
  "s3-sink": new Set([...KAFKA_CONNECT_COMMON_KEYS, ...KAFKA_CONNECT_SINK_KEYS, ...S3_SINK_KEYS]),
};

const PATTERNS_BY_KIND: Record<ConnectorKind, readonly RegExp[]> = {
  "debezium-postgres": DEBEZIUM_POSTGRES_KEY_PATTERNS,
  "s3-sink": [],
};

function isDocumented(kind: ConnectorKind, key: string, config: Record<string, string>): boolean {
  if (KEYS_BY_KIND[kind].has(key) || PATTERNS_BY_KIND[kind].some((p) => p.test(key))) return true;
  const converter = /^(key|value|header)\.converter\.(.+)$/.exec(key);
  if (converter) {
    const converterClass = config[`${converter[1]}.converter`];
    return converterClass !== undefined && (CONVERTER_KEYS[converterClass] ?? []).includes(converter[2]!);
  }
  const transform = /^transforms\.([^.]+)\.(.+)$/.exec(key);
  if (transform) {
    const aliases = (config["transforms"] ?? "").split(",").map((a) => a.trim());
    if (!aliases.includes(transform[1]!)) return false;
    if (transform[2] === "type") return true;
    const transformClass = config[`transforms.${transform[1]}.type`];
    return transformClass !== undefined && (TRANSFORM_KEYS[transformClass] ?? []).includes(transform[2]!);
  }
  return false;
}

/** The keys of `config` that the connector's documentation does not list (empty when all are known). */
export function undocumentedKeys(kind: ConnectorKind, config: Record<string, string>): string[] {
  return Object.keys(config).filter((key) => !isDocumented(kind, key, config));
}
