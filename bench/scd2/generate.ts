// Generates a realistic change stream for commerce.products in the S3 sink's Parquet layout, with
// DuckDB SQL: several Kafka partitions (key-hashed), files of `fileRows` records named by start offset,
// the Avro schema in each footer, a snapshot, creates/updates/deletes/re-creates, multi-change
// transactions, unchanged-TOAST placeholders and re-delivered duplicates after "connector restarts".
import { DuckDBInstance } from "@duckdb/node-api";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as path from "node:path";

export interface GenerateOptions {
  /** Change events before duplicates and multi-change extras. */
  events: number;
  keys: number;
  partitions: number;
  fileRows: number;
  /**
   * The incremental runs, as percentages of `events` added to the base (ascending): each one's stream
   * extends the smaller one's, so +1% holds the +0.1% events and more.
   */
  incrementPercents: readonly number[];
  /** Where `base/` (the full build's files) and `increment-<i>/` (each increment's own segment) go. */
  dir: string;
}

/** The events an incremental run adds after the base: its segment plus every smaller increment's. */
export interface Increment {
  percent: number;
  /** Topics dirs to add to the base for this run: the segments of this and every smaller increment. */
  dirs: string[];
  events: number;
  files: number;
}

export interface GeneratedData {
  /** Topics dir with the files of the full build. */
  base: string;
  baseEvents: number;
  baseFiles: number;
  increments: Increment[];
  generateMs: number;
}

export const TOPIC = "cdc.commerce.products";
/** The incremental runs `bench:scd2` measures, as percentages of the base events. */
export const DEFAULT_INCREMENT_PERCENTS = [0.1, 1, 10] as const;
const T0_MS = Date.UTC(2026, 0, 1);
/** Three connector "restarts" per partition, each re-delivering the last REPLAY_COUNT events. */
const RESTARTS = 3;
const REPLAY_COUNT = 1_000;

const optional = (type: unknown): unknown[] => ["null", type];
const debezium = (type: string, name: string) => ({ type, "connect.version": 1, "connect.name": name });
/** The value schema the S3 sink (parquet-avro) writes into each file's footer. */
const AVRO_SCHEMA = JSON.stringify({
  type: "record",
  name: "Value",
  namespace: TOPIC,
  "connect.name": `${TOPIC}.Value`,
  fields: [
    { name: "id", type: "int" },
    { name: "name", type: "string" },
    {
      name: "price",
      type: {
        type: "bytes",
        scale: 2,
        precision: 10,
        "connect.version": 1,
        "connect.parameters": { scale: "2", "connect.decimal.precision": "10" },
        "connect.name": "org.apache.kafka.connect.data.Decimal",
        logicalType: "decimal",
      },
    },
    { name: "created_at", type: debezium("long", "io.debezium.time.MicroTimestamp") },
    {
      name: "updated_at",
      type: optional(debezium("string", "io.debezium.time.ZonedTimestamp")),
      default: null,
    },
    { name: "in_stock", type: "boolean" },
    { name: "description", type: optional("string"), default: null },
    ...["__deleted", "__op", "__table"].map((name) => ({ name, type: optional("string"), default: null })),
    ...["__lsn", "__txId", "__source_ts_ms"].map((name) => ({ name, type: optional("long"), default: null })),
    { name: "__sequence", type: optional("string"), default: null },
  ],
});

const sql = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * One partition's stream as a table `stream` ordered by Kafka offset. Keys of partition p are
 * p+1, p+1+P, ...; event e of the partition is in round r = e / Kp and changes key perm_r(e % Kp), so
 * every key changes once per round and its op follows from (key, round) alone: round 0 is the snapshot
 * (first half, op r) or a create; later rounds update, delete on some odd rounds, and re-create after.
 */
function partitionSql(o: GenerateOptions, p: number, total: number, keysInPartition: number): string {
  const P = o.partitions;
  const Kp = keysInPartition;
  const REPLAY_EVERY = Math.max(2 * REPLAY_COUNT, Math.floor(total / (RESTARTS + 1)));
  const isDelete = (round: string) => `(${round} % 2 = 1 AND hash(k, ${round}) % 10 = 0)`;
  return `
CREATE OR REPLACE TABLE stream AS
WITH base AS (
  SELECT e, e // ${Kp} AS r, e % ${Kp} AS pos, (e * ${P} + ${p}) AS g,
         ((((e % ${Kp}) * 2147483647 + (e // ${Kp}) * 7919) % ${Kp}) * ${P} + ${p} + 1) AS k
  FROM range(${total}) t(e)
), ops AS (
  SELECT *,
    CASE WHEN r = 0 AND pos < ${Kp} // 2 THEN 'r' WHEN r = 0 THEN 'c'
         WHEN ${isDelete("r")} THEN 'd' WHEN ${isDelete("(r - 1)")} THEN 'c' ELSE 'u' END AS op,
    hash(k, r, 'v') AS h
  FROM base
), events AS (
  -- Every update with h % 25 = 1 is followed by a second change to the same row in the same transaction.
  SELECT *, 0 AS extra FROM ops
  UNION ALL SELECT *, 1 AS extra FROM ops WHERE op = 'u' AND h % 25 = 1
), rows AS (
  SELECT e, extra,
    e + extra * 0.5 AS sort_pos,
    k::INTEGER AS id,
    CASE WHEN op = 'd' THEN '' ELSE 'product-' || k || '-v' || (r // 3) END AS name,
    CASE WHEN op = 'd' THEN 0 ELSE ((h + extra) % 100000) / 100 END::DECIMAL(10,2) AS price,
    CASE WHEN op = 'd' THEN 0 ELSE (${T0_MS} - k * 1000) * 1000 END::BIGINT AS created_at,
    CASE WHEN op = 'd' THEN '1970-01-01T00:00:00.000000Z'
         ELSE strftime(make_timestamp((${T0_MS} + g) * 1000), '%Y-%m-%dT%H:%M:%S.%fZ') END AS updated_at,
    CASE WHEN op = 'd' THEN false ELSE (h + extra) % 3 > 0 END AS in_stock,
    CASE WHEN op = 'd' THEN NULL
         WHEN op = 'u' AND h % 7 = 3 THEN '__debezium_unavailable_value'
         WHEN (k + r // 4) % 5 = 0 THEN NULL
         ELSE 'Description of product ' || k || ', revision ' || (r // 4) || '. ' || repeat('lorem ipsum ', 8) END AS description,
    CASE WHEN op = 'd' THEN 'true' ELSE 'false' END AS __deleted,
    op AS __op,
    'products' AS __table,
    CASE WHEN op = 'r' THEN 1000 ELSE 1000000 + g * 16 + extra * 8 END::BIGINT AS __lsn,
    CASE WHEN op = 'r' THEN 900 ELSE 5000 + g END::BIGINT AS __txId,
    CASE WHEN op = 'r' THEN ${T0_MS - 60_000} ELSE ${T0_MS} + g END::BIGINT AS __source_ts_ms
  FROM events
), delivered AS (
  SELECT * FROM rows
  UNION ALL
  -- Re-deliveries: after each restart point the connector re-sends the last ${REPLAY_COUNT} events.
  SELECT * REPLACE ((e // ${REPLAY_EVERY} + 1) * ${REPLAY_EVERY} - 0.4 + (e % ${REPLAY_EVERY} - ${REPLAY_EVERY - REPLAY_COUNT}) / 10000 + extra / 100000 AS sort_pos)
  FROM rows WHERE e % ${REPLAY_EVERY} >= ${REPLAY_EVERY - REPLAY_COUNT} AND (e // ${REPLAY_EVERY} + 1) * ${REPLAY_EVERY} < ${total}
)
SELECT row_number() OVER (ORDER BY sort_pos) - 1 AS "offset", * EXCLUDE (extra),
  CASE WHEN __op = 'r' THEN '[null,"1000"]' ELSE '["' || (__lsn - 16) || '","' || __lsn || '"]' END AS __sequence
FROM delivered
ORDER BY "offset"`;
}

/** Generates the data set, or reuses it when `dir/complete.json` says it was generated with `o`. */
export async function generate(o: GenerateOptions, log: (line: string) => void): Promise<GeneratedData> {
  const percents = [...o.incrementPercents].sort((a, b) => a - b);
  const marker = path.join(o.dir, "complete.json");
  const params = JSON.stringify({
    events: o.events,
    keys: o.keys,
    partitions: o.partitions,
    fileRows: o.fileRows,
    percents,
  });
  if (existsSync(marker)) {
    const cached = JSON.parse(readFileSync(marker, "utf8")) as GeneratedData & { params: string };
    if (cached.params === params) return cached;
  }
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  const started = Date.now();
  // A bounded footprint: a 100M-event partition would otherwise take most of the RAM (it spills instead).
  const instance = await DuckDBInstance.create(":memory:", {
    temp_directory: path.join(o.dir, "tmp"),
    memory_limit: "4GB",
  });
  const duck = await instance.connect();
  const segments = percents.map((_, i) => ({
    dir: path.join(o.dir, `increment-${i}`),
    events: 0,
    files: 0,
  }));
  const result = { base: path.join(o.dir, "base"), baseEvents: 0, baseFiles: 0 };
  const count = async (query: string): Promise<number> =>
    Number(Object.values((await duck.runAndReadAll(query)).getRowObjectsJS()[0] ?? {})[0] ?? 0);

  for (let p = 0; p < o.partitions; p++) {
    const share = (n: number) => Math.floor(n / o.partitions) + (p < n % o.partitions ? 1 : 0);
    const baseEvents = share(o.events);
    // Events up to the end of each increment's segment; the stream runs to the largest.
    const ends = percents.map((pct) => baseEvents + Math.max(1, Math.round((baseEvents * pct) / 100)));
    await duck.run(partitionSql(o, p, ends.at(-1) ?? baseEvents, share(o.keys)));
    // A segment holds every record delivered (re-deliveries included) before the first event of the next.
    const bounds = [0];
    for (const end of [baseEvents, ...ends.slice(0, -1)])
      bounds.push(await count(`SELECT count(*) FROM stream WHERE sort_pos < ${end}`));
    bounds.push(await count("SELECT count(*) FROM stream"));
    for (let segment = 0; segment + 1 < bounds.length; segment++) {
      const root = segment === 0 ? result.base : segments[segment - 1]!.dir;
      for (let start = bounds[segment]!; start < bounds[segment + 1]!; start += o.fileRows) {
        const end = Math.min(start + o.fileRows, bounds[segment + 1]!);
        const name = `${TOPIC}+${p}+${String(start).padStart(10, "0")}.snappy.parquet`;
        const dir = path.join(root, TOPIC, `partition=${p}`);
        mkdirSync(dir, { recursive: true });
        await duck.run(
          `COPY (SELECT * EXCLUDE ("offset", e, sort_pos) FROM stream WHERE "offset" >= ${start} AND "offset" < ${end} ORDER BY "offset")
           TO ${sql(path.join(dir, name))} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 100000,
           KV_METADATA {'parquet.avro.schema': ${sql(AVRO_SCHEMA)}})`,
        );
        if (segment === 0) result.baseFiles++;
        else segments[segment - 1]!.files++;
      }
      const records = bounds[segment + 1]! - bounds[segment]!;
      if (segment === 0) result.baseEvents += records;
      else segments[segment - 1]!.events += records;
    }
    log(
      `partition ${p}: ${bounds
        .slice(1)
        .map((b, i) => b - bounds[i]!)
        .join(" + ")} records`,
    );
  }
  duck.closeSync();
  instance.closeSync();
  rmSync(path.join(o.dir, "tmp"), { recursive: true, force: true });
  const increments = percents.map((percent, i) => ({
    percent,
    dirs: segments.slice(0, i + 1).map((s) => s.dir),
    events: segments.slice(0, i + 1).reduce((n, s) => n + s.events, 0),
    files: segments.slice(0, i + 1).reduce((n, s) => n + s.files, 0),
  }));
  const data: GeneratedData = { ...result, increments, generateMs: Date.now() - started };
  writeFileSync(marker, JSON.stringify({ ...data, params }, null, 2));
  return data;
}

/** The increment of `percent` (it must have been generated). */
export function incrementOf(data: GeneratedData, percent: number): Increment {
  const increment = data.increments.find((i) => i.percent === percent);
  if (!increment) throw new Error(`no +${percent}% increment was generated`);
  return increment;
}

/**
 * A topics dir holding every file of `sources`, as hard links (copies across file systems). Links keep
 * each file's modification time, which the job's directory storage takes as part of its ETag: a copy
 * would be a rewritten object, which the job reads again and drops as re-delivered.
 */
export function combine(target: string, ...sources: string[]): void {
  for (const source of sources) {
    for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const from = path.join(entry.parentPath, entry.name);
      const to = path.join(target, path.relative(source, from));
      mkdirSync(path.dirname(to), { recursive: true });
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
    }
  }
}
