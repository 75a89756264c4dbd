/**
 * Runs the workload (debezium-workload.ts) through the local runtime and/or real Debezium (debezium-connect.ts)
 * on an embedded PostgreSQL set up with the project's own definitions (connectors/database) and the source
 * config the stack deploys (connectors/config), its address and password given as `${file:…}` placeholders
 * that the worker's config providers (and the runtime) resolve. Each capture gives the records a topic
 * consumer would read, as JsonConverter JSON `{schema, payload}`.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import {
  buildSinkConnector,
  buildSourceConnector,
  PIPELINE_DEFAULTS,
  topicForTable,
  type ConnectorConfig,
  type SinkSettingsInput,
  type SourceSettingsInput,
} from "../../../connectors/config";
import { applySourceSetup, createSlotSql, grantSql, publicationSql } from "../../../connectors/database";
import { startConnectorRuntime, type UnwrappedRecord } from "../../../connectors/local";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../../local/postgres";
import { envelopes, type EnvelopeRecord } from "./connect-json";
import { TYPE_TABLE } from "./debezium-type-table";
import { EXPECTED_RECORDS, PREPARE_SQL, runSteps, SEED_SQL } from "./debezium-workload";

export const CAPTURED_TABLES = [...PIPELINE_DEFAULTS.tables, TYPE_TABLE];

/**
 * The source configs captured: the one the stack deploys by default, and the same with the other decimal and
 * time modes the builder offers (its own topic prefix, connector and slot).
 */
export const VARIANTS: { topicPrefix: string; settings: Partial<SourceSettingsInput> }[] = [
  { topicPrefix: PIPELINE_DEFAULTS.topicPrefix, settings: {} },
  {
    topicPrefix: "strings",
    settings: { name: "cdc-source-strings", decimalHandlingMode: "string", timePrecisionMode: "connect" },
  },
  {
    topicPrefix: "doubles",
    settings: {
      name: "cdc-source-doubles",
      decimalHandlingMode: "double",
      timePrecisionMode: "adaptive_time_microseconds",
    },
  },
];
export type Variant = (typeof VARIANTS)[number];

/** The topics a source config writes the captured tables to. */
export const topicsOf = (config: ConnectorConfig): string[] =>
  CAPTURED_TABLES.map((table) => topicForTable(config.config["topic.prefix"]!, table));
/** Every topic the variants write the workload to. */
export const WORKLOAD_TOPICS = VARIANTS.flatMap((v) =>
  CAPTURED_TABLES.map((t) => topicForTable(v.topicPrefix, t)),
);
/** Records a topic gets, from the workload's count for its table. */
export const expectedRecords = (topic: string) => EXPECTED_RECORDS[topic.slice(topic.indexOf(".") + 1)]!;

/** A capture of the workload: ready once its snapshot is taken; then the records, per topic in offset order. */
export interface Capture {
  snapshotTaken(): Promise<void>;
  records(): Promise<EnvelopeRecord[]>;
  stop(): Promise<void>;
}

export interface WorkloadDatabase {
  server: EmbeddedPostgres;
  admin: pg.Client;
  /**
   * The project's source connector config for `variant`, pointing at this server through `${file:…}`
   * placeholders, streaming `slotName` (default: the project's slot).
   */
  sourceConfig(variant: Variant, slotName?: string): ConnectorConfig;
  /** Creates another pgoutput slot (each capture streams its own). */
  createSlot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL with the project's source setup, the workload's extra DDL and its seed rows. */
export async function startWorkloadDatabase(dir: string): Promise<WorkloadDatabase> {
  const server = await startEmbeddedPostgres({ dataDir: join(dir, "pg") });
  const admin = new pg.Client(server.connectionString);
  await admin.connect();
  const password = randomBytes(12).toString("hex");
  const setup = await applySourceSetup(admin, { rolePassword: password });
  for (const sql of PREPARE_SQL) await admin.query(sql);
  // The type table is captured like the project's tables: in the publication, readable by the role.
  await admin.query(
    publicationSql({ ...setup.publication, tables: [...setup.publication.tables, TYPE_TABLE] }),
  );
  const [schema, table] = TYPE_TABLE.split(".") as [string, string];
  await admin.query(
    grantSql({
      role: setup.role.name,
      schema,
      objectType: "table",
      objects: [table],
      privileges: ["SELECT"],
    }),
  );
  for (const sql of SEED_SQL) await admin.query(sql);
  const secrets = join(dir, "database.properties");
  writeFileSync(secrets, `host=127.0.0.1\nport=${server.port}\npassword=${password}\n`);
  const placeholder = (key: string) => `\${file:${secrets}:${key}}`;
  return {
    server,
    admin,
    sourceConfig(variant, slotName) {
      const built = buildSourceConnector({
        ...variant.settings,
        topicPrefix: variant.topicPrefix,
        database: {
          hostname: placeholder("host"),
          port: 5432,
          dbname: "postgres",
          password: placeholder("password"),
          sslMode: "disable",
        },
        tables: CAPTURED_TABLES,
      });
      // The builder takes the port as a number; the worker resolves a placeholder in any value.
      const config = { ...built.config, "database.port": placeholder("port") };
      return { name: built.name, config: slotName ? { ...config, "slot.name": slotName } : config };
    },
    createSlot: async (name) => void (await admin.query(createSlotSql({ name, plugin: "pgoutput" }))),
    async close() {
      await admin.end();
      await server.stop();
    },
  };
}

/**
 * A config per variant, each streaming its own slot (created here, `<slotPrefix>_<topic prefix>`); without a
 * slot prefix the default variant streams the project's slot.
 */
export async function variantConfigs(db: WorkloadDatabase, slotPrefix?: string): Promise<ConnectorConfig[]> {
  const configs: ConnectorConfig[] = [];
  for (const variant of VARIANTS) {
    const ownSlot = slotPrefix !== undefined || variant !== VARIANTS[0];
    const slot = ownSlot ? `${slotPrefix ?? "slot"}_${variant.topicPrefix}` : undefined;
    if (slot) await db.createSlot(slot);
    configs.push(db.sourceConfig(variant, slot));
  }
  return configs;
}

/** The config with its `${file:…}` path (a temporary file) replaced by `<secrets file>`: what fixtures record. */
export function stableSourceConfig(config: ConnectorConfig): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config.config).map(([k, v]) => [
      k,
      v.replace(/\$\{file:[^:}]*:/g, "${file:<secrets file>:"),
    ]),
  );
}

/** Takes each capture's snapshot, runs the stream steps on two sessions, then collects every capture's records. */
export async function runWorkload(db: WorkloadDatabase, captures: Capture[]): Promise<EnvelopeRecord[][]> {
  for (const capture of captures) await capture.snapshotTaken();
  const other = new pg.Client(db.server.connectionString);
  await other.connect();
  try {
    await runSteps({ main: db.admin, other });
  } finally {
    await other.end();
  }
  return Promise.all(captures.map((c) => c.records()));
}

export const LOCAL_BUCKET = "cdc-local";

export interface LocalCapture extends Capture {
  /** The workload's records as the runtime built them (before the topic), in delivery order. */
  unwrapped(): UnwrappedRecord[];
}

/**
 * The local runtime on `config`'s slot, its records seen through `onRecord`, with the project's sink config
 * (Parquet unless `format` says otherwise) writing into `bucketRoot`.
 */
export async function startLocalCapture(
  config: ConnectorConfig,
  bucketRoot: string,
  format?: SinkSettingsInput["format"],
): Promise<LocalCapture> {
  const seen: UnwrappedRecord[] = [];
  let failure: Error | undefined;
  const topics = topicsOf(config);
  const sink = buildSinkConnector({
    bucket: LOCAL_BUCKET,
    region: "us-east-1",
    topicPrefix: config.config["topic.prefix"],
    tables: CAPTURED_TABLES,
    format,
  });
  const runtime = await startConnectorRuntime({
    source: config,
    sink,
    bucketRoot,
    logger: pino({ level: "silent" }),
    onError: (err) => (failure = err),
    onRecord: (record) => seen.push(record),
  });
  const count = (topic: string) => seen.filter((r) => r.topic === topic).length;
  const unwrapped = () => seen.filter((r) => topics.includes(r.topic));
  const total = (topic: string) => expectedRecords(topic).total;
  return {
    // startConnectorRuntime returns once the snapshot is read.
    snapshotTaken: async () => undefined,
    async records() {
      const deadline = Date.now() + 60_000;
      while (topics.some((t) => count(t) < total(t))) {
        if (failure) throw failure;
        if (Date.now() > deadline)
          throw new Error(`local runtime: ${topics.map((t) => `${t} ${count(t)}/${total(t)}`).join(", ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await runtime.flush();
      return envelopes(unwrapped());
    },
    unwrapped,
    stop: () => runtime.stop(),
  };
}

/** The lines of a topic's JSON files in a local capture's bucket, in offset order. */
export function jsonFileLines(bucketRoot: string, topic: string): string[] {
  const dir = join(bucketRoot, LOCAL_BUCKET, PIPELINE_DEFAULTS.topicsDir, topic, "partition=0");
  return readdirSync(dir)
    .sort()
    .flatMap((file) => readFileSync(join(dir, file), "utf8").trimEnd().split("\n"));
}
