/** The Confluent S3 sink config, as far as the local runtime interprets it. */
import {
  JSON_CONVERTER_CLASS,
  DEFAULT_PARTITIONER_CLASS,
  JSON_FORMAT_CLASS,
  PARQUET_FORMAT_CLASS,
  S3_SINK_CONNECTOR_CLASS,
  S3_STORAGE_CLASS,
} from "../config";
import { bucketNameProblem } from "../config/bucket-name";
import { ConfigReader, normalizeConnectorInput } from "./connector-input";

export type ParquetCodec = "none" | "snappy" | "gzip" | "zstd";

export type FileFormat =
  | { type: "parquet"; codec: ParquetCodec }
  | { type: "json"; decimalFormat: "BASE64" | "NUMERIC"; gzip: boolean };

export interface SinkSettings {
  name: string;
  topics: (topic: string) => boolean;
  bucket: string;
  topicsDir: string;
  format: FileFormat;
  flushSize: number;
  /** Wall-clock rotation (`rotate.schedule.interval.ms`), 0 = off; scheduled from UTC midnight. */
  rotateScheduleIntervalMs: number;
  /** Record-time rotation (`rotate.interval.ms`), 0 = off. */
  rotateIntervalMs: number;
  behaviorOnNullValues: "fail" | "ignore" | "write";
  directoryDelim: string;
  fileDelim: string;
  offsetZeroPadWidth: number;
  /** Whether records arrive with a Connect schema (JsonConverter schemas.enable or Avro). */
  valueSchemas: boolean;
}

/** Keys accepted without a local effect: AWS access and upload tuning, Kafka consumer settings. */
export const SINK_NO_EFFECT_KEYS = [
  "tasks.max",
  "s3.region",
  "store.url",
  "s3.part.size",
  "s3.ssea.name",
  "s3.sse.customer.key",
  "s3.acl.canned",
  "s3.credentials.provider.class",
  "s3.path.style.access.enabled",
  "aws.access.key.id",
  "aws.secret.access.key",
  "s3.retry.backoff.ms",
  "s3.part.retries",
  "schema.compatibility",
  "errors.tolerance",
  "errors.log.enable",
  "errors.log.include.messages",
  "key.converter",
  "key.converter.schemas.enable",
  "locale",
] as const;
export const SINK_NO_EFFECT_PREFIXES = ["consumer.override."] as const;

const PARQUET_EXTENSIONS: Record<ParquetCodec, string> = {
  none: ".parquet",
  snappy: ".snappy.parquet",
  gzip: ".gz.parquet",
  zstd: ".zstd.parquet",
};

/** File extension the S3 sink gives a format. */
export function fileExtension(format: FileFormat): string {
  return format.type === "parquet" ? PARQUET_EXTENSIONS[format.codec] : format.gzip ? ".json.gz" : ".json";
}

/** Both formats' keys are valid sink keys whatever the format (as in the S3 sink); each applies to its own. */
function parseFormat(r: ConfigReader): FileFormat {
  const formatClass = r.oneOf("format.class", [PARQUET_FORMAT_CLASS, JSON_FORMAT_CLASS]);
  const codec = r.oneOf("parquet.codec", ["none", "snappy", "gzip", "zstd"], "snappy");
  const decimalFormat = r.oneOf("json.decimal.format", ["BASE64", "NUMERIC"], "BASE64");
  const compression = r.oneOf("s3.compression.type", ["none", "gzip"], "none");
  if (formatClass === PARQUET_FORMAT_CLASS) {
    if (compression !== "none")
      r.fail('config key "s3.compression.type" applies to JsonFormat; Parquet uses "parquet.codec"');
    return { type: "parquet", codec };
  }
  return { type: "json", decimalFormat, gzip: compression === "gzip" };
}

/**
 * `rotate.schedule.interval.ms` and `timezone`. The S3 sink refuses the first without the second
 * ("timezone configuration must be set when using rotate.schedule.interval.ms") and schedules
 * rotations from midnight in that zone; the runtime schedules from UTC midnight, so `UTC` is the
 * only zone it accepts (any other would land files at other times than the real sink).
 */
function parseScheduledRotation(r: ConfigReader): number {
  const intervalMs = r.int("rotate.schedule.interval.ms", 0);
  const timezone = r.optional("timezone");
  if (timezone !== undefined && timezone !== "UTC")
    r.fail(`config key "timezone" = "${timezone}" is not supported locally (supported: UTC)`);
  if (intervalMs > 0 && timezone === undefined)
    r.fail(
      'config key "timezone" must be set when using "rotate.schedule.interval.ms" (the S3 sink refuses to start without it); use UTC',
    );
  return intervalMs;
}

/** The bucket becomes a folder under the bucket root, so only S3-valid names (no `/`, no `..`) get there. */
function parseBucketName(r: ConfigReader): string {
  const bucket = r.string("s3.bucket.name");
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) r.fail(`config key "s3.bucket.name" = ${JSON.stringify(bucket)} ${problem}`);
  return bucket;
}

/**
 * Object keys are paths under the bucket folder here, so a `..` segment (from `topics.dir` or the
 * delimiters; topic names cannot make one, Kafka forbids "." and "..") would write outside it.
 */
function assertKeysStayInBucket(r: ConfigReader, s: SinkSettings): void {
  const sampleKey = [s.topicsDir, "topic", "partition=0", `topic${s.fileDelim}0${s.fileDelim}0`].join(
    s.directoryDelim,
  );
  if (sampleKey.split("/").includes(".."))
    r.fail(
      `config keys "topics.dir", "directory.delim" and "file.delim" make object keys with a ".." segment (${sampleKey}), which would leave the bucket folder locally`,
    );
}

export function parseSinkConfig(input: unknown): SinkSettings {
  const { name, config } = normalizeConnectorInput(input, "sink connector");
  const r = new ConfigReader(name, config);
  r.oneOf("connector.class", [S3_SINK_CONNECTOR_CLASS]);
  r.oneOf("storage.class", [S3_STORAGE_CLASS], S3_STORAGE_CLASS);
  r.oneOf("partitioner.class", [DEFAULT_PARTITIONER_CLASS], DEFAULT_PARTITIONER_CLASS);
  r.oneOf("store.kafka.keys", ["false"], "false");
  r.oneOf("store.kafka.headers", ["false"], "false");
  const topicList = r.optional("topics");
  const topicsRegex = r.optional("topics.regex");
  if ((topicList === undefined) === (topicsRegex === undefined))
    r.fail('exactly one of "topics" and "topics.regex" must be set');
  const listed = new Set((topicList ?? "").split(",").map((t) => t.trim()));
  const pattern = topicsRegex === undefined ? undefined : new RegExp(`^(?:${topicsRegex})$`);
  // JsonConverter only: the pipeline runs no schema registry, which the other converters need.
  r.oneOf("value.converter", [JSON_CONVERTER_CLASS], JSON_CONVERTER_CLASS);
  const valueSchemas = r.bool("value.converter.schemas.enable", true);
  const settings: SinkSettings = {
    name,
    topics: (topic) => (pattern ? pattern.test(topic) : listed.has(topic)),
    bucket: parseBucketName(r),
    topicsDir: r.string("topics.dir", "topics"),
    format: parseFormat(r),
    flushSize: r.int("flush.size", undefined, 1),
    rotateScheduleIntervalMs: parseScheduledRotation(r),
    rotateIntervalMs: r.int("rotate.interval.ms", 0),
    behaviorOnNullValues: r.oneOf("behavior.on.null.values", ["fail", "ignore", "write"], "fail"),
    directoryDelim: r.string("directory.delim", "/"),
    fileDelim: r.string("file.delim", "+"),
    offsetZeroPadWidth: r.int("filename.offset.zero.pad.width", 10, 1),
    valueSchemas,
  };
  assertKeysStayInBucket(r, settings);
  if (settings.format.type === "parquet" && !settings.valueSchemas) {
    r.fail(
      "ParquetFormat needs records with a Connect schema: schemaless JSON (value.converter.schemas.enable=false) cannot be written as Parquet",
    );
  }
  r.accept(SINK_NO_EFFECT_KEYS, SINK_NO_EFFECT_PREFIXES);
  r.rejectUnknown();
  return settings;
}
