import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** Where a JSON lines file first breaks: 1-based line, 0-based record (blank lines are not records). */
export interface BadJsonLine {
  line: number;
  record: number;
  reason: string;
}

/**
 * The first line of a JSON lines change file (gzipped when it ends in `.gz`) that is not one JSON
 * object, or undefined when every line is one. Read only after DuckDB failed, to name the line exactly.
 */
export async function firstBadJsonLine(file: string): Promise<BadJsonLine | undefined> {
  let stream: Readable = createReadStream(file);
  if (file.endsWith(".gz")) stream = stream.pipe(createGunzip());
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  let record = 0;
  try {
    for await (const text of lines) {
      line += 1;
      if (text.trim() === "") continue;
      const reason = objectError(text);
      if (reason !== undefined) return { line, record, reason };
      record += 1;
    }
  } catch (error) {
    return { line: line + 1, record, reason: `cannot be read: ${(error as Error).message}` };
  } finally {
    lines.close();
    stream.destroy();
  }
  return undefined;
}

function objectError(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return `it holds ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`;
  return undefined;
}
