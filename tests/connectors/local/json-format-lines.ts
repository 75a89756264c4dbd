/**
 * Runs JsonFormatLines.java (Kafka's own JsonConverter, compiled against the engines' jars) on topic records:
 * what the S3 sink's JsonFormat writes for them. Used by json-converter.test.ts and the fixtures' regenerate.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { EnvelopeRecord } from "./connect-json";

export const DECIMAL_FORMATS = ["NUMERIC", "BASE64"] as const;
export type DecimalFormat = (typeof DECIMAL_FORMATS)[number];

/** Per record: the topic form written again after the trip, then the JsonFormat line per decimal format. */
export interface ConverterLines {
  topic: string;
  lines: Record<DecimalFormat, string>;
}

/** Compiles JsonFormatLines.java into `dir/classes`; returns the classpath to run it with. */
export function compileJsonFormatLines(libDir: string, dir: string): string {
  const classes = join(dir, "classes");
  mkdirSync(classes, { recursive: true });
  execFileSync("javac", ["-cp", `${libDir}/*`, "-d", classes, join(__dirname, "JsonFormatLines.java")]);
  return `${classes}:${libDir}/*`;
}

export function runJsonFormatLines(classpath: string, records: EnvelopeRecord[]): ConverterLines[] {
  const input = records.map((r) => `${JSON.stringify(r.value)}\n`).join("");
  const output = execFileSync("java", ["-cp", classpath, "JsonFormatLines"], { input, maxBuffer: 1 << 28 });
  const lines = output.toString("utf8").trimEnd().split("\n");
  if (lines.length !== records.length * 3)
    throw new Error(`JsonFormatLines printed ${lines.length} lines for ${records.length} records`);
  return records.map((_, i) => ({
    topic: lines[3 * i]!,
    lines: { NUMERIC: lines[3 * i + 1]!, BASE64: lines[3 * i + 2]! },
  }));
}
