import { describe, expect, it } from "vitest";
import { settingsError } from "./settings-error";
import { buildSinkConnector, type SinkSettingsInput } from "../../../connectors/config";

const base: SinkSettingsInput = { bucket: "acme-cdc-dev", region: "eu-west-1" };

const buildError = (settings: unknown) => settingsError(buildSinkConnector, settings);

describe("buildSinkConnector", () => {
  it("generates the S3 sink config: Parquet, DefaultPartitioner, schema'd JSON converters (defaults)", () => {
    expect(buildSinkConnector(base)).toMatchInlineSnapshot(`
      {
        "config": {
          "behavior.on.null.values": "ignore",
          "connector.class": "io.confluent.connect.s3.S3SinkConnector",
          "errors.tolerance": "none",
          "flush.size": "1000",
          "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
          "key.converter": "org.apache.kafka.connect.json.JsonConverter",
          "key.converter.schemas.enable": "true",
          "parquet.codec": "snappy",
          "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
          "s3.bucket.name": "acme-cdc-dev",
          "s3.region": "eu-west-1",
          "schema.compatibility": "NONE",
          "storage.class": "io.confluent.connect.s3.storage.S3Storage",
          "tasks.max": "1",
          "topics": "cdc.commerce.products,cdc.commerce.users",
          "topics.dir": "cdc_data",
          "value.converter": "org.apache.kafka.connect.json.JsonConverter",
          "value.converter.schemas.enable": "true",
        },
        "name": "cdc-s3-sink",
      }
    `);
  });

  it("writes JSON lines with numeric decimals and gzip when asked", () => {
    expect(buildSinkConnector({ ...base, format: { type: "json", compression: "gzip" }, flushSize: 50 }))
      .toMatchInlineSnapshot(`
      {
        "config": {
          "behavior.on.null.values": "ignore",
          "connector.class": "io.confluent.connect.s3.S3SinkConnector",
          "errors.tolerance": "none",
          "flush.size": "50",
          "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
          "json.decimal.format": "NUMERIC",
          "key.converter": "org.apache.kafka.connect.json.JsonConverter",
          "key.converter.schemas.enable": "true",
          "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
          "s3.bucket.name": "acme-cdc-dev",
          "s3.compression.type": "gzip",
          "s3.region": "eu-west-1",
          "schema.compatibility": "NONE",
          "storage.class": "io.confluent.connect.s3.storage.S3Storage",
          "tasks.max": "1",
          "topics": "cdc.commerce.products,cdc.commerce.users",
          "topics.dir": "cdc_data",
          "value.converter": "org.apache.kafka.connect.json.JsonConverter",
          "value.converter.schemas.enable": "true",
        },
        "name": "cdc-s3-sink",
      }
    `);
  });

  it("rotates on the wall clock when scheduledRotationMs is set, with the timezone the sink requires", () => {
    expect(buildSinkConnector({ ...base, scheduledRotationMs: 600_000 })).toMatchInlineSnapshot(`
      {
        "config": {
          "behavior.on.null.values": "ignore",
          "connector.class": "io.confluent.connect.s3.S3SinkConnector",
          "errors.tolerance": "none",
          "flush.size": "1000",
          "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
          "key.converter": "org.apache.kafka.connect.json.JsonConverter",
          "key.converter.schemas.enable": "true",
          "parquet.codec": "snappy",
          "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
          "rotate.schedule.interval.ms": "600000",
          "s3.bucket.name": "acme-cdc-dev",
          "s3.region": "eu-west-1",
          "schema.compatibility": "NONE",
          "storage.class": "io.confluent.connect.s3.storage.S3Storage",
          "tasks.max": "1",
          "timezone": "UTC",
          "topics": "cdc.commerce.products,cdc.commerce.users",
          "topics.dir": "cdc_data",
          "value.converter": "org.apache.kafka.connect.json.JsonConverter",
          "value.converter.schemas.enable": "true",
        },
        "name": "cdc-s3-sink",
      }
    `);
  });

  it("generates no scheduled rotation by default", () => {
    const { config } = buildSinkConnector(base);
    expect(config).not.toHaveProperty("rotate.schedule.interval.ms");
    expect(config).not.toHaveProperty("timezone");
  });

  it.each([
    [
      "topics from prefix and tables",
      { topicPrefix: "shop", tables: ["sales.orders"] },
      "topics",
      "shop.sales.orders",
    ],
    ["topics.regex", { topicsRegex: "cdc\\.commerce\\..*" }, "topics.regex", "cdc\\.commerce\\..*"],
    ["topics dir", { topicsDir: "raw/cdc" }, "topics.dir", "raw/cdc"],
    ["parquet codec", { format: { type: "parquet", codec: "zstd" } }, "parquet.codec", "zstd"],
    ["flush size", { flushSize: 250 }, "flush.size", "250"],
    ["schema compatibility", { schemaCompatibility: "BACKWARD" }, "schema.compatibility", "BACKWARD"],
    ["S3-compatible endpoint", { storeUrl: "http://127.0.0.1:4569" }, "store.url", "http://127.0.0.1:4569"],
    ["tasks", { tasksMax: 2 }, "tasks.max", "2"],
  ])("maps the %s setting", (_what, override, key, value) => {
    expect(buildSinkConnector({ ...base, ...(override as object) }).config[key]).toBe(value);
  });

  it("lists topics.regex instead of topics, never both", () => {
    const { config } = buildSinkConnector({ ...base, topicsRegex: "cdc\\..*" });
    expect(config).not.toHaveProperty("topics");
  });

  it.each([
    ["an upper-case bucket", { bucket: "Acme" }, "bucket", "lower-case letters"],
    ["a short bucket", { bucket: "ab" }, "bucket", "3-63 characters"],
    ["a bucket with ..", { bucket: "a..b" }, "bucket", "'..'"],
    ["an IP-like bucket", { bucket: "192.168.1.1" }, "bucket", "IP address"],
    ["a reserved bucket prefix", { bucket: "xn--bucket" }, "bucket", "reserved"],
    ["a bad region", { region: "Europe" }, "region", "AWS region code"],
    ["a leading slash in topics dir", { topicsDir: "/cdc" }, "topicsDir", "no leading or trailing"],
    ["a zero flush size", { flushSize: 0 }, "flushSize", "positive"],
    ["a negative flush size", { flushSize: -5 }, "flushSize", "positive"],
    ["an unknown format", { format: { type: "csv" } }, "format.type", ""],
    ["an unknown parquet codec", { format: { type: "parquet", codec: "lzo" } }, "format.codec", ""],
    ["a bad decimal format", { format: { type: "json", decimalFormat: "TEXT" } }, "format.decimalFormat", ""],
    ["an invalid regex", { topicsRegex: "cdc.(" }, "topicsRegex", "valid regular expression"],
    ["a table without schema", { tables: ["users"] }, "tables[0]", "schema.table"],
    [
      "a partitioner setting (the default partitioner is the layout the SCD2 job reads)",
      { partitioner: { type: "time", partitionDurationMs: 3_600_000, pathFormat: "YYYY" } },
      "",
      "partitioner",
    ],
    [
      "a converter setting (JSON with schemas is the only converter: no schema registry)",
      { converter: { format: "avro", schemaRegistryUrl: "https://registry:8081" } },
      "",
      "converter",
    ],
    ["a non-http store URL", { storeUrl: "ftp://x" }, "storeUrl", "http(s) URL"],
    [
      "a scheduled rotation under a minute",
      { scheduledRotationMs: 59_999 },
      "scheduledRotationMs",
      "must be at least 60000 (one minute)",
    ],
    [
      "a zero scheduled rotation",
      { scheduledRotationMs: 0 },
      "scheduledRotationMs",
      "must be at least 60000",
    ],
    [
      "a scheduled rotation over a day",
      { scheduledRotationMs: 86_400_001 },
      "scheduledRotationMs",
      "must be at most 86400000 (one day)",
    ],
    [
      "a fractional scheduled rotation",
      { scheduledRotationMs: 60_000.5 },
      "scheduledRotationMs",
      "must be an integer number of milliseconds",
    ],
    ["a scheduled rotation as text", { scheduledRotationMs: "600000" }, "scheduledRotationMs", ""],
  ])("rejects %s, naming the field", (_what, override, path, message) => {
    const error = buildError({ ...base, ...override });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.path).toBe(path);
    expect(error.issues[0]!.message).toContain(message);
  });

  it("requires bucket and region", () => {
    expect(buildError({}).issues.map((i) => i.path)).toEqual(["bucket", "region"]);
  });
});
