/**
 * Reading the local bucket: which change files landed for a topic, and how many records they hold
 * (DuckDB reads Parquet and JSON lines natively).
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const CHANGE_FILE = /\.(parquet|json|json\.gz)$/;

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && CHANGE_FILE.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** The change files of `topic` below `<topicsDirPath>/<topic>/`, sorted by name. */
export function changeFiles(topicsDirPath: string, topic: string): string[] {
  return listFiles(join(topicsDirPath, topic));
}

function sqlList(paths: readonly string[]): string {
  return `[${paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(", ")}]`;
}

/** Runs one query on a throw-away in-memory DuckDB and returns its rows as plain JS values. */
export async function duckQuery(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Number of records in the given change files (Parquet or JSON lines). */
export async function countRecords(files: readonly string[]): Promise<number> {
  const parquet = files.filter((f) => f.endsWith(".parquet"));
  const json = files.filter((f) => !f.endsWith(".parquet"));
  const parts = [
    ...(parquet.length
      ? [`SELECT count(*) AS n FROM read_parquet(${sqlList(parquet)}, union_by_name = true)`]
      : []),
    ...(json.length
      ? [`SELECT count(*) AS n FROM read_json_auto(${sqlList(json)}, union_by_name = true)`]
      : []),
  ];
  if (parts.length === 0) return 0;
  const rows = await duckQuery(`SELECT sum(n)::BIGINT AS n FROM (${parts.join(" UNION ALL ")})`);
  return Number(rows[0]?.n ?? 0);
}

export interface TopicContents {
  topic: string;
  files: number;
  records: number;
}

/** Files and records per topic. */
export async function bucketContents(
  topicsDirPath: string,
  topics: readonly string[],
): Promise<TopicContents[]> {
  return Promise.all(
    topics.map(async (topic) => {
      const files = changeFiles(topicsDirPath, topic);
      return { topic, files: files.length, records: await countRecords(files) };
    }),
  );
}

/**
 * Flushes the runtime until at least `expected` records are in the bucket for `topics`, or fails
 * after `timeoutMs` naming how many landed.
 */
export async function waitForRecords(options: {
  flush: () => Promise<void>;
  topicsDirPath: string;
  topics: readonly string[];
  expected: number;
  timeoutMs: number;
  onProgress?: (landed: number) => void;
}): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    await options.flush();
    const contents = await bucketContents(options.topicsDirPath, options.topics);
    const landed = contents.reduce((sum, t) => sum + t.records, 0);
    options.onProgress?.(landed);
    if (landed >= options.expected) return landed;
    if (Date.now() > deadline) {
      throw new Error(
        `only ${landed} of ${options.expected} change records landed in ${options.topicsDirPath} after ${options.timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
