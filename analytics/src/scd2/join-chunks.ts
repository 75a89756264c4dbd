import { literal } from "../sql";

/**
 * Memory a fact (or a placeholder value, besides its bytes) takes in the hash tables of the join back to
 * the values, and what the scan and the Parquet writer beside that join need. Measured on the benchmark
 * (8.6 million facts, 1.2 million placeholder values of 122 bytes): one chunk fits a 1 GB limit; under
 * 512 MB, two chunks fail and three fit.
 */
export const JOIN_BYTES_PER_FACT = 50;
const RESERVED_BYTES = 256 * 2 ** 20;

/**
 * How many times finer the pieces are when the facts are in row order (see joinChunks). Measured: at
 * 100M changes under 1GB, and at 10M under 192MB, row-ordered facts in pieces sized for all the available
 * memory ran out of it, while the same pieces of unordered facts ran at the edge (DuckDB's memory by tag
 * peaked at the limit both ways); in half-sized pieces both ran, each piece taking about half as long.
 */
const ROW_ORDERED_SPLIT = 2;

/**
 * In how many chunks a join holding `joinBytes` runs within `limitBytes` of DuckDB memory. When the facts
 * are in row order (`rowOrdered`), a piece reads only its own facts, so a finer split costs little, and
 * more pieces leave the join more headroom; otherwise each piece scans all the facts.
 */
export function joinChunks(joinBytes: number, limitBytes: number, rowOrdered: boolean): number {
  const available = Math.max(limitBytes - RESERVED_BYTES, limitBytes / 4);
  const chunks = Math.max(1, Math.ceil(joinBytes / available));
  return chunks > 1 && rowOrdered ? chunks * ROW_ORDERED_SPLIT : chunks;
}

/**
 * One piece of the join back: the version facts it joins (a predicate on `_row` of the facts), the input
 * rows those facts can point to (a predicate on the input), and whether it also writes the complex keys'
 * versions (the first piece does, whole).
 */
export interface JoinChunk {
  facts: string;
  input: string;
  first: boolean;
}

/** The join in one piece. */
export const WHOLE: JoinChunk = { facts: "true", input: "true", first: true };

const rowRange = (lo: number, hi: number) => `(_row >= ${lo} AND _row < ${hi})`;

/**
 * `count` pieces over change files read in place, whose `_row` is `index * rowsPerFile + row in file`
 * (`keys` in index order): each joins the facts of a run of files to those files' rows alone, so that
 * every file is scanned once in all (a filter on `__source_file` skips the other files).
 */
export function fileChunks(keys: readonly string[], count: number, rowsPerFile: number): JoinChunk[] {
  const bounds = Array.from({ length: count + 1 }, (_, i) => Math.round((keys.length * i) / count));
  return bounds.slice(0, -1).map((from, i) => {
    const to = bounds[i + 1]!;
    return {
      facts: rowRange(from * rowsPerFile, to * rowsPerFile),
      input: inFiles(keys.slice(from, to)),
      first: i === 0,
    };
  });
}

/** The input rows of the change files `keys` (a filter on `__source_file` skips the other files). */
const inFiles = (keys: readonly string[]): string =>
  keys.length > 0 ? `__source_file IN (${keys.map(literal).join(", ")})` : "false";

/** The indexes (in `fileChunks`' sense) of the change files holding the rows of `facts`, as a query. */
export const fileIndexes = (facts: string, rowsPerFile: number): string =>
  `SELECT DISTINCT _row // ${rowsPerFile} AS i FROM ${facts}`;

/**
 * The whole join with its input narrowed to the change files `indexes` of `keys` (in index order, as in
 * fileChunks): a pass whose facts come from some files only reads those. An index outside `keys` is an
 * error (the facts would not be from these files).
 */
export function wholeWithin(keys: readonly string[], indexes: readonly number[]): JoinChunk {
  const files = [...new Set(indexes)]
    .sort((a, b) => a - b)
    .map((i) => {
      const key = keys[i];
      if (key === undefined) throw new Error(`no change file at index ${i} of ${keys.length}`);
      return key;
    });
  return { ...WHOLE, input: inFiles(files) };
}

/** `count` pieces over an input table whose `_row` runs from 0 to `rows` - 1. */
export function rowChunks(rows: number, count: number): JoinChunk[] {
  const bounds = Array.from({ length: count + 1 }, (_, i) => Math.round((rows * i) / count));
  return bounds.slice(0, -1).map((from, i) => {
    const range = rowRange(from, bounds[i + 1]!);
    return { facts: range, input: range, first: i === 0 };
  });
}
