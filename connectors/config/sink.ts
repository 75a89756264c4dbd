import { z } from "zod";
import { bucketNameProblem } from "./bucket-name";
import { converterConfig } from "./converters";
import { PIPELINE_DEFAULTS, topicForTable } from "./defaults";
import type { ConnectorConfig } from "./types";
import { parseSettings, positiveInt, tableList, topicName } from "./validation";

export const S3_SINK_CONNECTOR_CLASS = "io.confluent.connect.s3.S3SinkConnector";
export const S3_STORAGE_CLASS = "io.confluent.connect.s3.storage.S3Storage";
export const PARQUET_FORMAT_CLASS = "io.confluent.connect.s3.format.parquet.ParquetFormat";
export const JSON_FORMAT_CLASS = "io.confluent.connect.s3.format.json.JsonFormat";
export const DEFAULT_PARTITIONER_CLASS = "io.confluent.connect.storage.partitioner.DefaultPartitioner";

/** S3 bucket naming rules (general purpose buckets). */
const bucketName = z.string().superRefine((name, ctx) => {
  const problem = bucketNameProblem(name);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** An AWS region code such as `eu-west-1` or `us-gov-west-1`. */
const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/, "must be an AWS region code such as eu-west-1");

/** `topics.dir`: a relative key prefix without leading or trailing slash. */
const topicsDir = z
  .string()
  .regex(
    /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
    "must be a relative prefix like cdc_data (no leading or trailing '/')",
  );

const formatSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("parquet"),
    /** `parquet.codec`. Defaults to `snappy` (`.snappy.parquet` files). */
    codec: z.enum(["none", "snappy", "gzip", "zstd"]).default("snappy"),
  }),
  z.strictObject({
    type: z.literal("json"),
    /** `json.decimal.format`. Defaults to `NUMERIC` (BASE64 makes decimals unreadable without a schema). */
    decimalFormat: z.enum(["BASE64", "NUMERIC"]).default("NUMERIC"),
    /** `s3.compression.type`. Defaults to `none` (`.json`); `gzip` writes `.json.gz`. */
    compression: z.enum(["none", "gzip"]).default("none"),
  }),
]);

/** Bounds of `rotate.schedule.interval.ms`. */
export const SCHEDULED_ROTATION_MIN_MS = 60_000;
export const SCHEDULED_ROTATION_MAX_MS = 86_400_000;

/**
 * `rotate.schedule.interval.ms`: wall-clock rotation, so a quiet table's last records (fewer than
 * `flush.size`) still land. The sink commits at every multiple of the interval since midnight in
 * `timezone` (the next midnight at the latest), which is why at most a day is meaningful.
 */
const scheduledRotationMs = z
  .number()
  .int("must be an integer number of milliseconds")
  .min(
    SCHEDULED_ROTATION_MIN_MS,
    `must be at least ${SCHEDULED_ROTATION_MIN_MS} (one minute): shorter intervals write a small file per topic partition every interval`,
  )
  .max(
    SCHEDULED_ROTATION_MAX_MS,
    `must be at most ${SCHEDULED_ROTATION_MAX_MS} (one day): the sink rotates at midnight anyway`,
  );

export const sinkSettingsSchema = z.strictObject({
  /** Connector name. Defaults to `cdc-s3-sink`. */
  name: z.string().min(1).default(PIPELINE_DEFAULTS.sinkConnectorName),
  /** Must equal the source's. Defaults to `cdc`. */
  topicPrefix: topicName.default(PIPELINE_DEFAULTS.topicPrefix),
  /** Tables whose topics the sink consumes. Defaults to `commerce.products`, `commerce.users`. */
  tables: tableList.default([...PIPELINE_DEFAULTS.tables]),
  /** When set, `topics.regex` replaces the `topics` list derived from `tables`. */
  topicsRegex: z
    .string()
    .refine((r) => {
      try {
        new RegExp(r);
        return true;
      } catch {
        return false;
      }
    }, "must be a valid regular expression")
    .optional(),
  /** Destination bucket. */
  bucket: bucketName,
  /** Bucket region. */
  region: awsRegion,
  /** Defaults to `cdc_data`. */
  topicsDir: topicsDir.default(PIPELINE_DEFAULTS.topicsDir),
  /** Defaults to Parquet with snappy. */
  format: formatSchema.default({ type: "parquet", codec: "snappy" }),
  /** Records per file. Defaults to 1000. */
  flushSize: positiveInt.default(PIPELINE_DEFAULTS.flushSize),
  /**
   * `rotate.schedule.interval.ms` (wall clock), with `timezone=UTC`, which the sink requires
   * alongside it. Unset by default: with it,
   * file boundaries depend on timing, so a replay after a failure can cut files differently and
   * write a record into two files (at-least-once in S3; the SCD2 job counts a change once).
   */
  scheduledRotationMs: scheduledRotationMs.optional(),
  /** `schema.compatibility`. Defaults to `NONE`: every schema change starts a new file. */
  schemaCompatibility: z.enum(["NONE", "BACKWARD", "FORWARD", "FULL"]).default("NONE"),
  /** Defaults to 1. */
  tasksMax: positiveInt.default(1),
  /** `store.url`: endpoint of an S3-compatible store. Unset (AWS S3) by default. */
  storeUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
});

export type SinkSettingsInput = z.input<typeof sinkSettingsSchema>;
export type SinkSettings = z.output<typeof sinkSettingsSchema>;

function formatConfig(format: SinkSettings["format"]): Record<string, string> {
  if (format.type === "parquet") {
    return { "format.class": PARQUET_FORMAT_CLASS, "parquet.codec": format.codec };
  }
  return {
    "format.class": JSON_FORMAT_CLASS,
    "json.decimal.format": format.decimalFormat,
    "s3.compression.type": format.compression,
  };
}

/**
 * Scheduled rotation. The sink refuses `rotate.schedule.interval.ms` without `timezone`
 * (S3SinkConnectorConfig: "timezone configuration must be set when using
 * rotate.schedule.interval.ms"), which also anchors the schedule.
 */
function scheduledRotationConfig(s: SinkSettings): Record<string, string> {
  if (s.scheduledRotationMs === undefined) return {};
  return { "rotate.schedule.interval.ms": String(s.scheduledRotationMs), timezone: "UTC" };
}

/** The Confluent S3 sink connector that writes the unwrapped change records as files. */
export function buildSinkConnector(input: SinkSettingsInput): ConnectorConfig {
  const s = parseSettings("sink connector settings", sinkSettingsSchema, input);
  const topics: Record<string, string> =
    s.topicsRegex === undefined
      ? { topics: s.tables.map((t) => topicForTable(s.topicPrefix, t)).join(",") }
      : { "topics.regex": s.topicsRegex };
  return {
    name: s.name,
    config: {
      "connector.class": S3_SINK_CONNECTOR_CLASS,
      "tasks.max": String(s.tasksMax),
      ...topics,
      "s3.bucket.name": s.bucket,
      "s3.region": s.region,
      ...(s.storeUrl === undefined ? {} : { "store.url": s.storeUrl }),
      "storage.class": S3_STORAGE_CLASS,
      "topics.dir": s.topicsDir,
      ...formatConfig(s.format),
      // Deterministic object keys (exactly-once into S3), in the layout the SCD2 job reads.
      "partitioner.class": DEFAULT_PARTITIONER_CLASS,
      "flush.size": String(s.flushSize),
      ...scheduledRotationConfig(s),
      "schema.compatibility": s.schemaCompatibility,
      // Deletes arrive as rows (__deleted=true); a stray null value is not data, not a failure.
      "behavior.on.null.values": "ignore",
      ...converterConfig(),
      "errors.tolerance": "none",
    },
  };
}
