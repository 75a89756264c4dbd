import { describe, expect, it } from "vitest";
import { settingsError } from "./settings-error";
import {
  buildSourceConnector,
  heartbeatActionQuery,
  parseConfigPlaceholder,
  type SourceSettingsInput,
} from "../../../connectors/config";

const base: SourceSettingsInput = {
  database: { hostname: "db.internal", dbname: "shop", password: "${env:CDC_DB_PASSWORD}" },
};

const buildError = (settings: unknown) => settingsError(buildSourceConnector, settings);

describe("buildSourceConnector", () => {
  it("generates the Debezium 3.x pgoutput config with the unwrap SMT (defaults)", () => {
    expect(buildSourceConnector(base)).toMatchInlineSnapshot(`
      {
        "config": {
          "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
          "database.dbname": "shop",
          "database.hostname": "db.internal",
          "database.password": "\${env:CDC_DB_PASSWORD}",
          "database.port": "5432",
          "database.sslmode": "require",
          "database.user": "cdc_connector",
          "decimal.handling.mode": "precise",
          "errors.tolerance": "none",
          "heartbeat.action.query": "INSERT INTO commerce.cdc_heartbeat (id, beat_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at",
          "heartbeat.interval.ms": "10000",
          "incremental.snapshot.chunk.size": "1024",
          "incremental.snapshot.watermarking.strategy": "insert_insert",
          "key.converter": "org.apache.kafka.connect.json.JsonConverter",
          "key.converter.schemas.enable": "true",
          "plugin.name": "pgoutput",
          "publication.autocreate.mode": "disabled",
          "publication.name": "cdc_publication",
          "signal.data.collection": "commerce.cdc_signal",
          "signal.enabled.channels": "source",
          "slot.name": "cdc_slot",
          "snapshot.mode": "initial",
          "table.include.list": "commerce.products,commerce.users",
          "tasks.max": "1",
          "time.precision.mode": "adaptive",
          "topic.prefix": "cdc",
          "transforms": "unwrap",
          "transforms.unwrap.add.fields": "op,table,lsn,txId,source.ts_ms,sequence",
          "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
          "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
          "value.converter": "org.apache.kafka.connect.json.JsonConverter",
          "value.converter.schemas.enable": "true",
        },
        "name": "cdc-postgres-source",
      }
    `);
  });

  it.each([
    ["tables", { tables: ["commerce.orders"] }, "table.include.list", "commerce.orders"],
    ["topic prefix", { topicPrefix: "shop" }, "topic.prefix", "shop"],
    ["slot", { slotName: "shop_slot" }, "slot.name", "shop_slot"],
    ["publication", { publicationName: "shop_pub" }, "publication.name", "shop_pub"],
    ["snapshot mode", { snapshotMode: "no_data" }, "snapshot.mode", "no_data"],
    ["decimal mode", { decimalHandlingMode: "string" }, "decimal.handling.mode", "string"],
    ["time precision", { timePrecisionMode: "connect" }, "time.precision.mode", "connect"],
    ["heartbeat interval", { heartbeat: { intervalMs: 5000 } }, "heartbeat.interval.ms", "5000"],
    ["signalling table", { signal: { table: "ops.signals" } }, "signal.data.collection", "ops.signals"],
    ["chunk size", { signal: { chunkSize: 4096 } }, "incremental.snapshot.chunk.size", "4096"],
    [
      "heartbeat table",
      { heartbeat: { table: "ops.beat" } },
      "heartbeat.action.query",
      heartbeatActionQuery("ops.beat"),
    ],
    [
      "database port and TLS",
      { database: { ...base.database, port: 6432, sslMode: "verify-full", sslRootCert: "/etc/ca.pem" } },
      "database.sslmode",
      "verify-full",
    ],
    [
      "certificate authorities",
      { database: { ...base.database, sslMode: "verify-ca", sslRootCert: "/etc/ca.pem" } },
      "database.sslrootcert",
      "/etc/ca.pem",
    ],
  ])("maps the %s setting", (_what, override, key, value) => {
    expect(buildSourceConnector({ ...base, ...(override as object) }).config[key]).toBe(value);
  });

  it.each([
    ["${env:CDC_DB_PASSWORD}", { provider: "env", path: undefined, key: "CDC_DB_PASSWORD" }],
    [
      "${file:/etc/kafka/db.properties:password}",
      { provider: "file", path: "/etc/kafka/db.properties", key: "password" },
    ],
    [
      "${secretsmanager:cdc-pipeline/dev/cdc_connector-AbCdEf:password}",
      { provider: "secretsmanager", path: "cdc-pipeline/dev/cdc_connector-AbCdEf", key: "password" },
    ],
  ])("accepts the placeholder %s and passes it through untouched", (password, parts) => {
    const { config } = buildSourceConnector({ ...base, database: { ...base.database, password } });
    expect(config["database.password"]).toBe(password);
    expect(parseConfigPlaceholder(password)).toEqual(parts);
  });

  it('rejects a secret given by ARN: Kafka would read the path as "arn"', () => {
    const password =
      "${secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:cdc-db-AbCdEf:password}";
    const error = buildError({ ...base, database: { ...base.database, password } });
    expect(error.issues).toEqual([
      {
        path: "database.password",
        message:
          "is a placeholder Kafka Connect would misread: Kafka splits ${provider:path:key} at its first two colons, " +
          'so this reads as provider "secretsmanager", path "arn", key "aws:secretsmanager:eu-west-1:123456789012:secret:cdc-db-AbCdEf:password"; ' +
          "a path cannot hold a colon: reference the secret by its name, not its ARN (e.g. ${secretsmanager:<secret name>:password})",
      },
    ]);
  });

  it.each(["hunter2", "${env}", "${env:}", "${env::PW}", "$env:PW", "{env:PW}", "${env:PW}x", ""])(
    "rejects the plaintext or malformed password %j",
    (password) => {
      const error = buildError({ ...base, database: { ...base.database, password } });
      expect(error.issues.map((i) => i.path)).toEqual(["database.password"]);
      expect(error.message).toContain("config-provider placeholder");
      expect(error.message).not.toContain(password || "\u0000");
    },
  );

  it.each([
    [
      "a table without schema",
      { tables: ["products"] },
      "tables[0]",
      '"products" is not a schema.table name',
    ],
    ["an upper-case table", { tables: ["commerce.Products"] }, "tables[0]", "is not a schema.table name"],
    ["a quoted table", { tables: ['"commerce"."p"'] }, "tables[0]", "is not a schema.table name"],
    ["three parts", { tables: ["db.commerce.p"] }, "tables[0]", "is not a schema.table name"],
    ["no table", { tables: [] }, "tables", "at least one table"],
    ["a duplicate table", { tables: ["commerce.p", "commerce.p"] }, "tables", "twice"],
    ["a bad slot name", { slotName: "Slot-1" }, "slotName", "lower-case PostgreSQL identifier"],
    ["a bad topic prefix", { topicPrefix: "cdc/x" }, "topicPrefix", "letters, digits"],
    ["a zero heartbeat", { heartbeat: { intervalMs: 0 } }, "heartbeat.intervalMs", "positive"],
    ["a fractional heartbeat", { heartbeat: { intervalMs: 1.5 } }, "heartbeat.intervalMs", "integer"],
    ["a captured heartbeat table", { heartbeat: { table: "commerce.users" } }, "heartbeat.table", "captured"],
    [
      "a captured signalling table",
      { signal: { table: "commerce.users" } },
      "signal.table",
      "neither captured",
    ],
    [
      "the heartbeat table as signalling table",
      { signal: { table: "commerce.cdc_heartbeat" } },
      "signal.table",
      "nor the heartbeat table",
    ],
    ["a zero chunk size", { signal: { chunkSize: 0 } }, "signal.chunkSize", "positive"],
    ["an unknown snapshot mode", { snapshotMode: "sometimes" }, "snapshotMode", ""],
    ["a bad port", { database: { ...base.database, port: 70000 } }, "database.port", ""],
    ["an unknown setting", { tabels: ["commerce.p"] }, "", "tabels"],
    [
      "verify-full without certificate authorities",
      { database: { ...base.database, sslMode: "verify-full" } },
      "database.sslRootCert",
      "is needed with sslMode verify-ca or verify-full",
    ],
    [
      "a relative sslRootCert",
      { database: { ...base.database, sslMode: "verify-ca", sslRootCert: "ca.pem" } },
      "database.sslRootCert",
      "must be an absolute path on the worker",
    ],
    [
      "a converter setting (JSON with schemas is the only converter: no schema registry)",
      { converter: { format: "avro", schemaRegistryUrl: "http://registry:8081" } },
      "",
      "converter",
    ],
  ])("rejects %s, naming the field", (_what, override, path, message) => {
    const error = buildError({ ...base, ...override });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.path).toBe(path);
    expect(error.issues[0]!.message).toContain(message);
    expect(error.message).toContain(`Invalid source connector settings:\n  - ${path || "(root)"}: `);
  });
});
