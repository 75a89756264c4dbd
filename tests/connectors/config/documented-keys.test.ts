import { describe, expect, it } from "vitest";
import {
  buildSinkConnector,
  buildSourceConnector,
  type SinkSettingsInput,
  type SourceSettingsInput,
} from "../../../connectors/config";
import { undocumentedKeys } from "./documented-keys";

const database = { hostname: "db", dbname: "shop", password: "${env:PW}" };

const sources: [string, SourceSettingsInput][] = [
  ["defaults", { database }],
  [
    "every option set",
    {
      database: { ...database, port: 6543, sslMode: "disable" },
      snapshotMode: "when_needed",
      decimalHandlingMode: "double",
      timePrecisionMode: "connect",
      heartbeat: { intervalMs: 1000, table: "ops.beat" },
    },
  ],
];

const sinks: [string, SinkSettingsInput][] = [
  ["defaults", { bucket: "b-1", region: "us-east-1" }],
  [
    "JSON lines",
    {
      bucket: "b-1",
      region: "us-east-1",
      format: { type: "json", compression: "gzip" },
      topicsRegex: "cdc\\..*",
    },
  ],
  ["a custom endpoint", { bucket: "b-1", region: "us-east-1", storeUrl: "http://localhost:4569" }],
  ["scheduled (wall-clock) rotation", { bucket: "b-1", region: "us-east-1", scheduledRotationMs: 600_000 }],
];

describe("every generated key is a documented configuration key", () => {
  it.each(sources)("Debezium PostgreSQL source: %s", (_what, settings) => {
    const { config } = buildSourceConnector(settings);
    expect(undocumentedKeys("debezium-postgres", config)).toEqual([]);
  });

  it.each(sinks)("Confluent S3 sink: %s", (_what, settings) => {
    const { config } = buildSinkConnector(settings);
    expect(undocumentedKeys("s3-sink", config)).toEqual([]);
  });

  it("generates only string values (the REST API takes a flat string map)", () => {
    for (const [, settings] of sources) {
      expect(Object.values(buildSourceConnector(settings).config).every((v) => typeof v === "string")).toBe(
        true,
      );
    }
    for (const [, settings] of sinks) {
      expect(Object.values(buildSinkConnector(settings).config).every((v) => typeof v === "string")).toBe(
        true,
      );
    }
  });
});

describe("undocumentedKeys", () => {
  it.each([
    ["a misspelt Debezium key", "debezium-postgres", { "slot.nmae": "x" }, ["slot.nmae"]],
    ["a sink key on the source", "debezium-postgres", { "flush.size": "1" }, ["flush.size"]],
    ["a source key on the sink", "s3-sink", { "slot.name": "x" }, ["slot.name"]],
    [
      "the pre-3.2 SMT option",
      "debezium-postgres",
      {
        transforms: "unwrap",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.delete.handling.mode": "rewrite",
      },
      ["transforms.unwrap.delete.handling.mode"],
    ],
    [
      "an option of an undeclared transform",
      "debezium-postgres",
      { "transforms.other.type": "x" },
      ["transforms.other.type"],
    ],
    [
      "a registry URL on the JSON converter",
      "s3-sink",
      {
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schema.registry.url": "http://r",
      },
      ["value.converter.schema.registry.url"],
    ],
    ["a pattern key", "debezium-postgres", { "column.truncate.to.20.chars": "commerce.users.bio" }, []],
  ] as const)("flags %s", (_what, kind, config, expected) => {
    expect(undocumentedKeys(kind, config as Record<string, string>)).toEqual(expected);
  });
});
