/** Config validation, config providers and the exact-value helpers, without a database. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildSinkConnector, buildSourceConnector, JSON_CONVERTER_CLASS } from "../../../connectors/config";
import {
  parseSinkConfig,
  parseSourceConfig,
  SINK_NO_EFFECT_KEYS,
  SOURCE_NO_EFFECT_KEYS,
} from "../../../connectors/local";
import {
  decimalToJavaString,
  decimalToPlainString,
  parseDecimal,
  twosComplementBytes,
} from "../../../connectors/local/connect-schema";
import { parseInt8 } from "../../../connectors/local/pg-types";
import { parseProperties } from "../../../connectors/local/placeholders";
import { undocumentedKeys } from "../config/documented-keys";
import { nextScheduledRotation } from "../../../connectors/local/sink";
import {
  epochMicros,
  formatZonedTimestamp,
  parseInstant,
  parseIntervalMicros,
} from "../../../connectors/local/temporal";

const dir = mkdtempSync(join(tmpdir(), "cdc-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = (extra: Record<string, string> = {}) => ({
  ...buildSourceConnector({
    database: {
      hostname: "127.0.0.1",
      dbname: "app",
      password: "${env:CDC_TEST_PASSWORD}",
      sslMode: "disable",
    },
  }).config,
  name: "src",
  ...extra,
});
const sink = (extra: Record<string, string> = {}) => ({
  ...buildSinkConnector({ bucket: "cdc-bucket", region: "eu-west-1" }).config,
  name: "sink",
  ...extra,
});

describe("connector configs", () => {
  process.env.CDC_TEST_PASSWORD = "s3cret";

  it("accepts what the config builders produce, {name, config} or flat", () => {
    const built = buildSourceConnector({
      database: { hostname: "db", dbname: "app", password: "${env:CDC_TEST_PASSWORD}", sslMode: "disable" },
    });
    const parsed = parseSourceConfig(built);
    expect(parsed.database).toEqual({
      host: "db",
      port: 5432,
      user: "cdc_connector",
      password: "s3cret",
      dbname: "app",
      sslMode: "disable",
      sslRootCert: undefined,
      queryTimeoutMs: 600_000,
    });
    expect(parsed.unwrap.deleteHandling).toBe("rewrite");
    expect(parsed.unwrap.addFields).toEqual(["op", "table", "lsn", "txId", "source.ts_ms", "sequence"]);
    const parsedSink = parseSinkConfig(buildSinkConnector({ bucket: "cdc-bucket", region: "eu-west-1" }));
    expect(parsedSink).toMatchObject({
      bucket: "cdc-bucket",
      topicsDir: "cdc_data",
      flushSize: 1000,
      behaviorOnNullValues: "ignore",
    });
    expect(parsedSink.format).toEqual({ type: "parquet", codec: "snappy" });
    expect(parsedSink.topics("cdc.commerce.products")).toBe(true);
    expect(parsedSink.topics("cdc.commerce.other")).toBe(false);
    const jsonSink = buildSinkConnector({
      bucket: "cdc-bucket",
      region: "eu-west-1",
      format: { type: "json" },
    });
    expect(parseSinkConfig(jsonSink).format).toEqual({
      type: "json",
      decimalFormat: "NUMERIC",
      gzip: false,
    });
  });

  it("takes the builder's scheduled rotation (rotate.schedule.interval.ms with timezone=UTC)", () => {
    const built = buildSinkConnector({
      bucket: "cdc-bucket",
      region: "eu-west-1",
      scheduledRotationMs: 600_000,
    });
    expect(parseSinkConfig(built).rotateScheduleIntervalMs).toBe(600_000);
    expect(parseSinkConfig(sink()).rotateScheduleIntervalMs).toBe(0);
    expect(parseSinkConfig(sink({ timezone: "UTC" })).rotateScheduleIntervalMs).toBe(0);
  });

  it("schedules rotations from UTC midnight, the next midnight at the latest, as the S3 sink does", () => {
    const midnight = Date.UTC(2026, 0, 15);
    const minute = 60_000;
    expect(
      [
        [midnight, 10 * minute],
        [midnight + 1, 10 * minute],
        [midnight + 10 * minute - 1, 10 * minute],
        [midnight + 10 * minute, 10 * minute],
        // 7 minutes do not divide a day: the last slot ends at midnight, the next day starts over.
        [midnight - 1, 7 * minute],
        [midnight + 7 * minute, 7 * minute],
      ].map(([now, interval]) => nextScheduledRotation(now!, interval!) - midnight),
    ).toEqual([10 * minute, 10 * minute, 10 * minute, 20 * minute, 0, 14 * minute]);
  });

  it.each([
    [
      "an unknown source key",
      () => parseSourceConfig(source({ "snapshot.locking.mode": "none" })),
      /"snapshot.locking.mode"/,
    ],
    [
      "an unknown sink key",
      () => parseSinkConfig(sink({ "s3.object.tagging": "true" })),
      /"s3.object.tagging"/,
    ],
    [
      "a value not supported",
      () => parseSourceConfig(source({ "plugin.name": "decoderbufs" })),
      /"plugin.name" = "decoderbufs"/,
    ],
    [
      "a legacy SMT key",
      () => parseSourceConfig(source({ "transforms.unwrap.drop.tombstones": "true" })),
      /removed in Debezium 3.2/,
    ],
    [
      "a signal channel not emulated",
      () => parseSourceConfig(source({ "signal.enabled.channels": "source,kafka" })),
      /"signal.enabled.channels" = "source,kafka" is not supported locally \(supported: source\)/,
    ],
    [
      "the insert_delete watermarks",
      () => parseSourceConfig(source({ "incremental.snapshot.watermarking.strategy": "insert_delete" })),
      /"incremental.snapshot.watermarking.strategy" = "insert_delete" is not supported locally/,
    ],
    [
      "a signalling table without its schema",
      () => parseSourceConfig(source({ "signal.data.collection": "cdc_signal" })),
      /"signal.data.collection" = "cdc_signal" must be <schema>.<table>/,
    ],
    [
      "a second transform",
      () => parseSourceConfig(source({ transforms: "unwrap,route" })),
      /exactly one transform/,
    ],
    [
      "a partitioner we do not run",
      () => parseSinkConfig(sink({ "partitioner.class": "x.FieldPartitioner" })),
      /"partitioner.class"/,
    ],
    [
      "a verifying sslmode without the certificate authorities",
      () => parseSourceConfig(source({ "database.sslmode": "verify-full" })),
      /"database.sslmode" = "verify-full" needs "database.sslrootcert"/,
    ],
    [
      "a converter that needs a schema registry",
      () => parseSourceConfig(source({ "value.converter": "io.confluent.connect.avro.AvroConverter" })),
      /"value.converter" = "io.confluent.connect.avro.AvroConverter"/,
    ],
    [
      "schemaless Parquet",
      () => parseSinkConfig(sink({ "value.converter.schemas.enable": "false" })),
      /schemaless JSON/,
    ],
    ["a missing flush.size", () => parseSinkConfig({ ...sink(), "flush.size": undefined }), /"flush.size"/],
    [
      "scheduled rotation without a timezone (the S3 sink refuses it too)",
      () => parseSinkConfig(sink({ "rotate.schedule.interval.ms": "600000" })),
      /"timezone" must be set when using "rotate.schedule.interval.ms"/,
    ],
    [
      "a timezone other than UTC",
      () => parseSinkConfig(sink({ "rotate.schedule.interval.ms": "600000", timezone: "Europe/Paris" })),
      /"timezone" = "Europe\/Paris" is not supported locally \(supported: UTC\)/,
    ],
    [
      "an unknown add.fields entry",
      () => parseSourceConfig(source({ "transforms.unwrap.add.fields": "op,bogus" })),
      /unknown field "bogus"/,
    ],
    [
      'a connector name with "/" (it would lead the offset file out of its folder)',
      () => parseSourceConfig(source({ name: "../../elsewhere" })),
      'source connector: connector name "../../elsewhere" contains "/": the local runtime names the connector\'s offset file after it, in one folder',
    ],
    [
      "a connector name with a control character (Kafka Connect refuses it too)",
      () => parseSinkConfig(sink({ name: "sink\u0000" })),
      'sink connector: connector name "sink\\u0000" contains control characters (Kafka Connect refuses them)',
    ],
  ])("rejects %s with an error naming the key", (_what, parse, message) => {
    expect(parse).toThrow(message);
  });

  it("takes a connector name with spaces and dots as it is", () => {
    expect(parseSourceConfig(source({ name: "orders source v2.1" })).name).toBe("orders source v2.1");
    expect(parseSinkConfig(sink({ name: "orders sink v2.1" })).name).toBe("orders sink v2.1");
  });

  it.each([
    ["debezium", undefined],
    ["cdc_slot_2", undefined],
    ["a".repeat(63), undefined],
    ["", "an empty one"],
    ["a".repeat(64), "64 characters"],
    ["Cdc_slot", "an upper-case letter"],
    ["cdc-slot", "a hyphen"],
    ["cdc slot", "a space"],
    ['x" LOGICAL 0/0', "a double quote"],
    ["slot'1", "a single quote"],
    ["café", "a non-ASCII letter"],
    ["cdc\n", "a trailing newline"],
  ])("slot.name %j: accepted, or refused for %s, naming the key and the rule", (name, refusal) => {
    const parse = () => parseSourceConfig(source({ "slot.name": name }));
    if (refusal === undefined) expect(parse().slotName).toBe(name);
    else
      expect(parse).toThrow(
        `src: config key "slot.name" = ${JSON.stringify(name)} is not valid: ` +
          "a replication slot name is 1 to 63 lower-case letters (a-z), digits and underscores",
      );
  });

  it.each([
    ["cdc_publication", undefined],
    ["CDC_Pub", undefined],
    [`pub "q", 'x'`, undefined],
    ["p".repeat(80), undefined],
    ["", "a publication name cannot be empty"],
    ["pub\u0000x", "a publication name cannot hold a NUL character"],
  ])("publication.name %j: taken as it is, or refused (%s)", (name, rule) => {
    const parse = () => parseSourceConfig(source({ "publication.name": name }));
    if (rule === undefined) expect(parse().publicationName).toBe(name);
    else
      expect(parse).toThrow(
        `src: config key "publication.name" = ${JSON.stringify(name)} is not valid: ${rule}`,
      );
  });

  it("defaults slot.name and publication.name as Debezium does", () => {
    const config: Record<string, string> = source();
    delete config["slot.name"];
    delete config["publication.name"];
    const parsed = parseSourceConfig(config);
    expect([parsed.slotName, parsed.publicationName]).toEqual(["debezium", "dbz_publication"]);
  });

  it.each([
    ["disable", {}, "disable", undefined],
    ["allow", {}, "disable", undefined],
    ["prefer", {}, "disable", undefined],
    ["require", {}, "require", undefined],
    ["verify-ca", { "database.sslrootcert": "/ca.pem" }, "verify-ca", "/ca.pem"],
    ["verify-full", { "database.sslrootcert": "/ca.pem" }, "verify-full", "/ca.pem"],
  ])("reads database.sslmode %s as libpq means it here", (mode, extra, sslMode, sslRootCert) => {
    const { database } = parseSourceConfig(source({ "database.sslmode": mode, ...extra }));
    expect([database.sslMode, database.sslRootCert]).toEqual([sslMode, sslRootCert]);
  });

  it.each([
    ["debezium-postgres", SOURCE_NO_EFFECT_KEYS],
    ["s3-sink", SINK_NO_EFFECT_KEYS],
  ] as const)("accepts without effect only keys the %s documentation lists", (kind, keys) => {
    const undocumented = keys.filter((key) => {
      // Converter keys are documented per converter class.
      const side = /^(key|value)\.converter\./.exec(key)?.[1];
      const config = side ? { [`${side}.converter`]: JSON_CONVERTER_CLASS, [key]: "x" } : { [key]: "x" };
      return undocumentedKeys(kind, config).length > 0;
    });
    expect(undocumented).toEqual([]);
  });

  it("resolves ${env:VAR} and ${file:path:key}; other providers are a clear error", () => {
    const props = join(dir, "db.properties");
    writeFileSync(props, "# secrets\nuser = cdc_reader\npassword=pa\\:ss\\u0021\n");
    const parsed = parseSourceConfig(
      source({
        "database.user": `\${file:${props}:user}`,
        "database.password": `\${file:${props}:password}`,
      }),
    );
    expect([parsed.database.user, parsed.database.password]).toEqual(["cdc_reader", "pa:ss!"]);
    expect(() =>
      parseSourceConfig(
        source({ "database.password": "${secretsmanager:cdc-pipeline/dev/cdc_connector-AbCdEf:password}" }),
      ),
    ).toThrow(/config key "database.password": config provider "secretsmanager" is not available locally/);
    // Given by ARN, Kafka would look up the path "arn": rejected first, with the fix.
    expect(() =>
      parseSourceConfig(
        source({
          "database.password": "${secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:x:password}",
        }),
      ),
    ).toThrow(
      'config key "database.password": Kafka splits ${provider:path:key} at its first two colons, so this reads as ' +
        'provider "secretsmanager", path "arn", key "aws:secretsmanager:eu-west-1:1:secret:x:password"; a path cannot ' +
        "hold a colon: reference the secret by its name, not its ARN (e.g. ${secretsmanager:<secret name>:password})",
    );
    expect(() => parseSourceConfig(source({ "database.password": "${env:CDC_TEST_UNSET_VAR}" }))).toThrow(
      /environment variable CDC_TEST_UNSET_VAR is not set/,
    );
    expect(() => parseSourceConfig(source({ "database.password": `\${file:${props}:missing}` }))).toThrow(
      /has no key "missing"/,
    );
  });

  it("parses Java properties", () => {
    expect([...parseProperties("a=1\nb : 2\nc 3\n! note\nlong=x\\\n   y\n")]).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "3"],
      ["long", "xy"],
    ]);
  });
});

describe("exact values", () => {
  it.each([
    ["1234.500", 3, "EtZE", "1234.500"],
    ["-1", 0, "/w==", "-1"],
    ["128", 0, "AIA=", "128"],
    ["-128", 0, "gA==", "-128"],
    ["-129", 0, "/38=", "-129"],
    ["0.0000001", 7, "AQ==", "1E-7"],
    ["0", 2, "AA==", "0.00"],
  ])("decimal %s (scale %i): BigInteger bytes %s, BigDecimal.toString %s", (text, scale, base64, java) => {
    const value = parseDecimal(text, scale);
    expect(twosComplementBytes(value.unscaled).toString("base64")).toBe(base64);
    expect(decimalToJavaString(value)).toBe(java);
  });

  // A text already in plain form at the scale keeps its text and makes its unscaled integer when asked;
  // any other text takes the general parse. Both give what the general parse of the same digits gives.
  it.each([
    ["-12.30", 2, -1230n, "-12.30", true],
    ["0.05", 2, 5n, "0.05", true],
    ["0.00", 2, 0n, "0.00", true],
    ["-42", 0, -42n, "-42", true],
    ["99999999999999999999.99", 2, 9999999999999999999999n, "99999999999999999999.99", true],
    // Not plain at the scale: -0, leading zeros, a sign, too few or too many digits, no integer part.
    ["-0.00", 2, 0n, "0.00", false],
    ["-0", 0, 0n, "0", false],
    ["007.50", 2, 750n, "7.50", false],
    ["+1.00", 2, 100n, "1.00", false],
    ["1.5", 2, 150n, "1.50", false],
    ["1.239", 2, 123n, "1.23", false],
    [".50", 2, 50n, "0.50", false],
    ["12", 2, 1200n, "12.00", false],
    ["12.0", 0, 12n, "12", false],
  ])(
    "decimal %s at scale %i: unscaled %s, plain %s (kept as text: %s)",
    (text, scale, unscaled, plain, kept) => {
      const value = parseDecimal(text, scale);
      expect(value.plain !== undefined).toBe(kept);
      expect(value.scale).toBe(scale);
      expect(decimalToPlainString(value)).toBe(plain);
      expect(value.unscaled).toBe(unscaled);
      const general = { kind: "decimal" as const, unscaled, scale };
      expect(decimalToPlainString(general)).toBe(plain);
      expect(decimalToJavaString(value)).toBe(decimalToJavaString(general));
      expect(twosComplementBytes(value.unscaled)).toEqual(twosComplementBytes(unscaled));
    },
  );

  it.each([
    ["0", 0],
    ["-42", -42],
    ["999999999999999", 999_999_999_999_999],
    ["-99999999999999", -99_999_999_999_999],
    // 16 characters and more: a number while within ±2^53, a bigint beyond.
    ["1000000000000000", 1_000_000_000_000_000],
    ["9007199254740991", 9_007_199_254_740_991],
    ["-9007199254740991", -9_007_199_254_740_991],
    ["9007199254740992", 9_007_199_254_740_992n],
    ["-9007199254740993", -9_007_199_254_740_993n],
    ["1433333333333333333", 1_433_333_333_333_333_333n],
    ["9223372036854775807", 9_223_372_036_854_775_807n],
    ["-9223372036854775808", -9_223_372_036_854_775_808n],
  ])("int8 %s → %s (a number within ±2^53, a bigint beyond)", (text, expected) => {
    expect(parseInt8(text)).toBe(expected);
  });

  it.each([
    ["2024-03-01 12:34:56.789+02", 1709289296789000],
    ["1969-12-31 23:59:59.999999+00", -1],
    // Beyond ±2^53 µs: exact, as a bigint.
    ["0044-03-15 00:00:00+00 BC", BigInt(-735160) * 86_400_000_000n],
  ])("timestamp %s → %i µs", (text, micros) => {
    expect(epochMicros(parseInstant(text))).toBe(micros);
  });

  it("formats ZonedTimestamp with the column precision", () => {
    const instant = parseInstant("2024-03-01 12:34:56.789+02");
    expect(formatZonedTimestamp(instant, 6)).toBe("2024-03-01T10:34:56.789000Z");
    expect(formatZonedTimestamp(instant, 3)).toBe("2024-03-01T10:34:56.789Z");
    expect(formatZonedTimestamp(parseInstant("1969-12-31 23:59:59.999999+00"), 0)).toBe(
      "1969-12-31T23:59:59Z",
    );
  });

  it.each([
    ["P1Y2M3DT4H5M6.5S", Math.trunc((((14 * (365.25 / 12) + 3) * 24 + 4) * 60 + 5) * 60 * 1e6 + 6.5e6)],
    ["PT0S", 0],
    ["P-1D", -86400000000],
    ["PT-0.5S", -500000],
    // Beyond ±2^53 µs: the long Debezium casts the double to, exactly (the number would print ...456800).
    ["P40000YT2M3.456789S", 1262304000123456768n],
    ["P-40000YT-2M-3.456789S", -1262304000123456768n],
    // Past ±2^63 µs: Java's cast saturates.
    ["P300000Y", 9223372036854775807n],
    ["P-178000000Y", -9223372036854775808n],
  ])("interval %s → MicroDuration", (text, micros) => {
    expect(parseIntervalMicros(text)).toBe(micros);
  });
});
