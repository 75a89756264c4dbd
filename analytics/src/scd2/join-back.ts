import type { Duck } from "../duck";
import type { FastPass } from "./fast-pass";
import { writeParquet } from "./files";
import type { PendingFile } from "./files";
import { keyIn, whereKeys } from "./incremental";
import type { JoinChunk } from "./join-chunks";
import { fileIndexes, joinChunks, WHOLE, wholeWithin } from "./join-chunks";
import { buildVersions, dropUnchanged, simpleVersions } from "./pipeline";
import type { TableShape } from "./shape";
import { keyBucket, keyList, list, outputColumns } from "./shape";

export interface JoinBackArgs {
  duck: Duck;
  shape: TableShape;
  fast: FastPass;
  /** Pieces of the join (WHOLE alone when it fits memory). */
  pieces: readonly JoinChunk[];
  /** Where the written files wait for their upload. */
  scratchDir: string;
  /** Output key of a history or current file; `suffix` tells pieces apart. */
  outKey: (kind: "history" | "current", suffix?: string) => string;
  /** Current versions kept as they are (keys the run does not touch), as a query; none when undefined. */
  untouched?: string;
  /**
   * A full build's change files, read in place (their keys in index order and the `_row` stride, as in
   * fileChunks): the current versions' pass, in one piece, then reads only the files that hold one.
   * Undefined: it reads every input row.
   */
  sourceFiles?: { keys: readonly string[]; rowsPerFile: number };
  step: (name: string) => void;
}

export interface WrittenVersions {
  /** History files with at least one row, in piece order. */
  closed: PendingFile[];
  current: PendingFile;
  /** Keys whose versions were built on the exact path (an update that may equal the previous state). */
  complexKeys: number;
}

/**
 * Writes the versions: the facts of `scd2_vfacts` joined back to the changes' values (the complex keys'
 * versions built exactly from their whole rows), as history files (closed versions) and the current file.
 */
export async function writeVersions(args: JoinBackArgs): Promise<WrittenVersions> {
  const { duck, shape, fast, pieces, scratchDir, outKey, step } = args;
  await duck.run(
    `CREATE TEMP TABLE scd2_complex AS SELECT DISTINCT ${keyList(shape)} FROM scd2_vfacts WHERE _complex`,
  );
  const complexKeys = await duck.count("SELECT count(*) FROM scd2_complex");
  const complex = complexKeys > 0;
  if (complex) await exactVersions(duck, shape, fast, step);
  // Only the versions' values are joined back: deletes and complex keys are left out of the join.
  const joined = `SELECT * FROM scd2_vfacts f WHERE NOT _del${complex ? ` AND ${keyIn(shape, "f", "scd2_complex", true)}` : ""}`;
  const many = pieces.length > 1;
  const output = list(outputColumns(shape));
  /** Closed or current versions of one piece of the join back. */
  const versions = (which: "closed" | "current", chunk: JoinChunk) => {
    const facts = `(${joined} AND ${chunk.facts} AND n_ts IS ${which === "closed" ? "NOT " : ""}NULL)`;
    const isCurrent = which === "current" ? "is_current" : "NOT is_current";
    const complexPart = complex && chunk.first ? ` UNION ALL SELECT * FROM scd2_cv WHERE ${isCurrent}` : "";
    return `(${simpleVersions(shape, `(${fast.widen(facts, chunk)})`)}${complexPart})`;
  };

  const closed = await inWrittenOrder(duck, many, async () => {
    const files: PendingFile[] = [];
    for (const [index, chunk] of pieces.entries()) {
      step(many ? `writing closed versions (${index + 1}/${pieces.length})` : "writing closed versions");
      const file = await writeParquet(
        duck,
        `SELECT ${output} FROM ${versions("closed", chunk)}`,
        outKey("history", many ? `-${index}` : ""),
        scratchDir,
      );
      if (file.rows > 0) files.push(file);
    }
    return files;
  });
  step("writing current versions");
  // A key's current version comes from its last change, and those sit in few of a full build's files
  // when keys change often (at 10M changes over 1M keys, 12 of 104): in one piece, only those files are
  // read again (3.3 s to 1.4 s). In pieces it gains nothing: a piece without current facts reads nothing
  // already (at 100M, 17.0 s against 16.8 s, and finding the files took 1.8 s more).
  const sources = many ? undefined : args.sourceFiles;
  const firstCurrent = sources
    ? wholeWithin(sources.keys, await fileNumbers(duck, `(${joined} AND n_ts IS NULL)`, sources.rowsPerFile))
    : pieces[0]!;
  const current = await inWrittenOrder(duck, many || sources !== undefined, async () => {
    let currentVersions = versions("current", firstCurrent);
    if (many) {
      // The current versions are one file: in pieces, they are gathered in a table first.
      await duck.run(`CREATE TEMP TABLE scd2_current AS SELECT ${output} FROM ${currentVersions}`);
      for (const chunk of pieces.slice(1))
        await duck.run(`INSERT INTO scd2_current SELECT ${output} FROM ${versions("current", chunk)}`);
      currentVersions = "scd2_current";
    }
    const untouched = args.untouched ? ` UNION ALL SELECT ${output} FROM (${args.untouched})` : "";
    return writeParquet(
      duck,
      `SELECT ${output} FROM ${currentVersions}${untouched}`,
      outKey("current"),
      scratchDir,
    );
  });
  return { closed, current, complexKeys };
}

/** The indexes of the change files holding the rows of `facts` (see fileIndexes). */
async function fileNumbers(duck: Duck, facts: string, rowsPerFile: number): Promise<number[]> {
  const rows = await duck.rows(fileIndexes(facts, rowsPerFile));
  return rows.map((row) => Number(row.i));
}

/**
 * Runs `work` with DuckDB's join reordering off when `keep`. A piece's input is filtered to its files,
 * and DuckDB then estimates it smaller than the facts and builds its hash table on the wide rows (out of
 * memory under 512MB); the written join order builds on the facts and the placeholder values.
 */
async function inWrittenOrder<T>(duck: Duck, keep: boolean, work: () => Promise<T>): Promise<T> {
  if (!keep) return work();
  await duck.run("SET disabled_optimizers = 'join_order,build_side_probe_side'");
  try {
    return await work();
  } finally {
    await duck.run("RESET disabled_optimizers");
  }
}

/**
 * Memory the exact path takes per byte of the values it reads: the rows, the previous values its window
 * holds beside them, and the resolved placeholders. Measured: 8,000 changes whose values average 10 KB
 * (placeholders resolving to 20 KB) fail under 256MB in one bucket.
 */
const EXACT_BYTES_PER_VALUE_BYTE = 4;

/** A piece of the exact path: all input rows, the placeholder values its facts point to. */
const EXACT_PIECE: JoinChunk = { facts: "true", input: "true", first: false };

/**
 * Creates `scd2_cv`: the complex keys' versions, built from their whole rows (dropUnchanged compares
 * each change's values with the previous change's). Whole rows can be large: more than fit the memory
 * limit are built in buckets of keys, each from its own rows.
 */
async function exactVersions(duck: Duck, shape: TableShape, fast: FastPass, step: (name: string) => void) {
  const facts = whereKeys(shape, "scd2_vfacts", "scd2_complex");
  const rows = await duck.count(`SELECT count(*) FROM (${facts})`);
  const buckets = joinChunks(
    rows * (await fast.rowBytes()) * EXACT_BYTES_PER_VALUE_BYTE,
    await duck.memoryLimitBytes(),
    // Buckets of keys: each reads every input row.
    false,
  );
  for (let bucket = 0; bucket < buckets; bucket += 1) {
    if (buckets > 1) step(`building versions of keys with unchanged updates (${bucket + 1}/${buckets})`);
    const bucketFacts =
      buckets === 1
        ? `(${facts})`
        : `(SELECT * FROM (${facts}) WHERE ${keyBucket(shape, buckets)} = ${bucket})`;
    const widened = `(${fast.widen(bucketFacts, buckets === 1 ? WHOLE : EXACT_PIECE)})`;
    const versions = buildVersions(shape, `(${dropUnchanged(shape, widened)})`);
    await duck.run(
      bucket === 0 ? `CREATE TEMP TABLE scd2_cv AS ${versions}` : `INSERT INTO scd2_cv ${versions}`,
    );
  }
}
