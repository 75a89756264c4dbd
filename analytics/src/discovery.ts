import { Scd2Error } from "./errors";
import type { StoredObject } from "./storage/storage";

/** A change file written by the S3 sink: `<topic>/partition=<n>/<topic>+<n>+<offset>.<ext>`. */
export interface SourceFile {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset of the file's first record. */
  readonly startOffset: number;
  readonly format: "parquet" | "json";
}

/** Parquet with any codec suffix (`.parquet`, `.snappy.parquet`, `.zstd.parquet`, ...) or JSON lines (`.json`, `.json.gz`). */
const NAME =
  /^(?<topic>.+)\+(?<partition>\d+)\+(?<offset>\d{10,})\.(?<ext>(?:[a-z0-9]+\.)?parquet|json|json\.gz)$/;

/** The topic Debezium writes a table to: `<topicPrefix>.<schema>.<table>`. */
export function topicOf(topicPrefix: string, table: string): string {
  return `${topicPrefix}.${table}`;
}

/**
 * Parses one object key under `<topic>/`. Names that start with `.` (hidden or temporary files) are
 * skipped: the result is `undefined`. Any other name that is not the sink's layout is an error naming it,
 * so a misplaced file is never silently ignored.
 */
export function parseSourceKey(object: StoredObject, topic: string): SourceFile | undefined {
  const parts = object.key.split("/");
  const base = parts[parts.length - 1] ?? "";
  if (base.startsWith(".")) return undefined;
  const fail = (why: string): never => {
    throw new Scd2Error(
      `unexpected file ${object.key} under topic ${topic}: ${why} (expected ${topic}/partition=<n>/${topic}+<n>+<offset, 10 digits>.<parquet|json|json.gz>)`,
    );
  };
  if (parts.length !== 3 || parts[0] !== topic) fail("not in a partition directory");
  const dir = /^partition=(\d+)$/.exec(parts[1] ?? "");
  if (!dir) return fail(`directory ${parts[1]} is not partition=<n>`);
  const name = NAME.exec(base)?.groups;
  if (!name) return fail("name is not <topic>+<partition>+<offset>.<ext>");
  if (name.topic !== topic) fail(`file names topic ${name.topic}`);
  if (name.partition !== dir[1]) fail(`file names partition ${name.partition}, directory says ${dir[1]}`);
  const startOffset = Number(name.offset);
  if (!Number.isSafeInteger(startOffset)) fail("offset is too large");
  return {
    key: object.key,
    etag: object.etag,
    size: object.size,
    topic,
    partition: Number(name.partition),
    startOffset,
    format: name.ext?.endsWith("parquet") ? "parquet" : "json",
  };
}

/** Every change file of a topic, in Kafka order (partition, then offset). */
export function discoverSourceFiles(objects: readonly StoredObject[], topic: string): SourceFile[] {
  return objects
    .map((object) => parseSourceKey(object, topic))
    .filter((file): file is SourceFile => file !== undefined)
    .sort((a, b) => a.partition - b.partition || a.startOffset - b.startOffset);
}
