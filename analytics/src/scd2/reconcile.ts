import type { Duck } from "../duck";
import { Scd2Error } from "../errors";
import { ident } from "../sql";
import type { TableShape } from "./shape";
import { EVENT_META, INFERRED, keyList, list, valueColumns } from "./shape";

/**
 * Reconciliation after a gap (a lost replication slot): a complete incremental snapshot of a table, run
 * between WAL positions `from` (the request, `requestedAt` in `cdc-resnapshot`'s report) and `to` (when
 * it was done, `doneAt`), reads every row that exists. A key that is live in the history before the
 * window and has no record at all in it (no read, no change) was deleted while nothing streamed: it gets
 * a delete the job infers (`_r` INFERRED), at the time of the window's first read (the key was already
 * gone then: a delete during the window would have streamed). A key that changed during the window has a
 * change in it, and a key inserted after its chunk was read has an insert: neither is closed. Records
 * are placed in the window by `_p`, the last commit the stream had passed (see ORDER in pipeline.ts).
 */
export interface ReconcileWindow {
  /** `<schema>.<table>`. */
  table: string;
  /** WAL positions as 64-bit integers. */
  from: bigint;
  to: bigint;
}

/** `16/B374D848` → its 64-bit value; undefined if it is not an LSN. */
export function parseLsn(text: string): bigint | undefined {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  return match ? (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`) : undefined;
}

/** `<schema>.<table>:<requestedAt>:<doneAt>` (LSNs as PostgreSQL prints them); throws naming what is wrong. */
export function parseReconcile(text: string): ReconcileWindow {
  const parts = text.split(":");
  if (parts.length !== 3) {
    throw new Error(`expected <schema>.<table>:<requestedAt LSN>:<doneAt LSN>, got ${JSON.stringify(text)}`);
  }
  const [table, fromText, toText] = parts as [string, string, string];
  if (!/^[A-Za-z_][\w$]*\.[A-Za-z_][\w$]*$/.test(table)) {
    throw new Error(`expected <schema>.<table> before the first ":", got ${JSON.stringify(table)}`);
  }
  const [from, to] = [parseLsn(fromText), parseLsn(toText)];
  if (from === undefined)
    throw new Error(`requestedAt ${JSON.stringify(fromText)} is not an LSN like 0/16C0420`);
  if (to === undefined) throw new Error(`doneAt ${JSON.stringify(toText)} is not an LSN like 0/16C13F8`);
  if (to < from) throw new Error(`doneAt ${toText} is before requestedAt ${fromText}`);
  return { table, from, to };
}

/** The columns `positions` must have: every record's place, time and kind (applied state or new events). */
export const POSITION_COLUMNS = ["_p", "_r", "__lsn", "__source_ts_ms", "_del"] as const;

const inWindow = (w: ReconcileWindow) => `_p BETWEEN ${w.from} AND ${w.to}`;

/** The time of the window's first snapshot read in `positions` (NULL: none). */
export const windowTime = (w: ReconcileWindow, positions: string): string =>
  `SELECT min(__source_ts_ms) AS ts FROM ${positions} WHERE _r = 0 AND ${inWindow(w)}`;

/**
 * The keys of `positions` whose last record before the window is not a delete and that have no record
 * in it: one row each, `_p` the window's start, `ts` its time.
 */
export function absentKeys(shape: TableShape, w: ReconcileWindow, positions: string, ts: number): string {
  const place = "{'p': _p, 'r': _r, 'l': coalesce(__lsn, -1)}";
  return `SELECT ${keyList(shape)}, CAST(${w.from} AS BIGINT) AS _p, CAST(${ts} AS BIGINT) AS __source_ts_ms
  FROM ${positions} GROUP BY ${keyList(shape)}
  HAVING NOT bool_or(${inWindow(w)})
    AND NOT coalesce(max_by(_del, ${place}) FILTER (WHERE _p < ${w.from}), true)`;
}

/** Delete events (EVENT_META, values NULL, a negative `_row`) for the keys of `inferred` (see absentKeys). */
export function inferredEvents(shape: TableShape, inferred: string): string {
  const values = valueColumns(shape).map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`);
  const meta: Record<(typeof EVENT_META)[number], string> = {
    __op: "'d'",
    __lsn: "CAST(NULL AS BIGINT)",
    __txId: "CAST(NULL AS BIGINT)",
    __source_ts_ms: "__source_ts_ms",
    __source_file: "CAST(NULL AS VARCHAR)",
    __kafka_partition: "CAST(NULL AS INTEGER)",
    __kafka_offset: "CAST(NULL AS BIGINT)",
    _r: `CAST(${INFERRED} AS UTINYINT)`,
    _p: "_p",
    _del: "true",
  };
  return `SELECT ${[keyList(shape), ...values, ...EVENT_META.map((m) => `${meta[m]} AS ${m}`)].join(", ")},
    -row_number() OVER () AS _row FROM ${inferred}`;
}

/**
 * Creates table `target` (the inferred deletes, as event rows) from `positions` (every record of the
 * table the history holds, with POSITION_COLUMNS), window after window: a window sees the deletes the
 * earlier ones inferred. Returns how many keys it closed. A window without any snapshot read is refused:
 * a wrong window, or a snapshot whose files the sink has not written yet, would close every key.
 */
export async function inferDeletes(
  duck: Duck,
  shape: TableShape,
  windows: readonly ReconcileWindow[],
  positions: string,
  target: string,
): Promise<number> {
  const columns = `${keyList(shape)}, ${list([...POSITION_COLUMNS])}`;
  await duck.run(`CREATE TEMP TABLE ${target}_pos AS SELECT ${columns} FROM ${positions}`);
  await duck.run(
    `CREATE TEMP TABLE ${target}_keys AS SELECT ${keyList(shape)}, 0::BIGINT AS _p, 0::BIGINT AS __source_ts_ms FROM ${target}_pos WHERE false`,
  );
  for (const w of [...windows].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))) {
    const [row] = await duck.rows(windowTime(w, `${target}_pos`));
    if (row?.ts === null || row?.ts === undefined) {
      throw new Scd2Error(
        `${w.table}: no snapshot read between requestedAt and doneAt (positions ${w.from}..${w.to}) in its change files: reconciliation needs the complete snapshot's reads (check the window against cdc-resnapshot's report, and that the sink has written its files); nothing was written`,
      );
    }
    const found = `${target}_w`;
    await duck.run(
      `CREATE OR REPLACE TEMP TABLE ${found} AS ${absentKeys(shape, w, `${target}_pos`, Number(row.ts))}`,
    );
    await duck.run(
      `INSERT INTO ${target}_pos SELECT ${keyList(shape)}, _p, ${INFERRED}, NULL, __source_ts_ms, true FROM ${found}`,
    );
    await duck.run(`INSERT INTO ${target}_keys SELECT * FROM ${found}`);
  }
  await duck.run(`CREATE TEMP TABLE ${target} AS ${inferredEvents(shape, `${target}_keys`)}`);
  return duck.count(`SELECT count(*) FROM ${target}`);
}

/** No events, in the columns of staged ones (an incremental run with a window but no new file). */
export function noEvents(shape: TableShape): string {
  const keys = shape.columns.filter((c) => shape.primaryKey.includes(c.name));
  const empty = `(SELECT ${keys.map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`).join(", ")}, 0::BIGINT AS _p, 0::BIGINT AS __source_ts_ms WHERE false)`;
  return inferredEvents(shape, empty);
}

/**
 * Applies `windows` to this run's `events`: creates view `target`, the events and the deletes inferred.
 * `applied` (an incremental run) holds the records of earlier runs, which the windows need too: the
 * snapshot's reads may have been processed before the reconciliation was asked for.
 */
export async function reconcileEvents(
  duck: Duck,
  shape: TableShape,
  windows: readonly ReconcileWindow[],
  applied: string | undefined,
  events: string,
  target: string,
): Promise<number> {
  const columns = `${keyList(shape)}, ${list([...POSITION_COLUMNS])}`;
  if (applied && (await duck.count(`SELECT count(*) FROM ${applied} WHERE _p IS NULL OR _del IS NULL`)) > 0) {
    throw new Scd2Error(
      `${windows[0]!.table}: the stored applied positions were written by an earlier version of the job, without what reconciliation needs (each change's place and kind): run this reconciliation once with --full-refresh; nothing was written`,
    );
  }
  const positions = applied
    ? `(SELECT ${columns} FROM ${applied} UNION ALL SELECT ${columns} FROM ${events})`
    : events;
  const inferred = await inferDeletes(duck, shape, windows, positions, `${target}_inferred`);
  await duck.run(
    `CREATE TEMP VIEW ${target} AS SELECT * FROM ${events} UNION ALL BY NAME SELECT * FROM ${target}_inferred`,
  );
  return inferred;
}

/** A state's windows and this run's, each once, as the manifest keeps them. */
export function mergeWindows(
  stored: readonly { from: string; to: string }[] | undefined,
  given: readonly ReconcileWindow[],
): { from: string; to: string }[] {
  const all = [...(stored ?? []), ...given.map((w) => ({ from: w.from.toString(), to: w.to.toString() }))];
  return all.filter((w, i) => all.findIndex((o) => o.from === w.from && o.to === w.to) === i);
}
