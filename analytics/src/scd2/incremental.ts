import { ident } from "../sql";
import { changeOf, sameTransaction } from "./pipeline";
import type { TableShape } from "./shape";
import { EVENT_META, keyJoin, keyList, keyStateColumns, list, valueColumns } from "./shape";

/**
 * SQL for an incremental run. Relations: `newEvents` (this run's changes), `keys` (per-key last applied
 * change), `current` (current versions), `applied` (positions of applied changes). Most keys only move
 * forward: their new changes come after the last applied one, so the current version plus the new
 * changes decide everything (the "prior" row below stands for the current version). A key with a change
 * at or before its last applied one (a late file) is recomputed from all its changes (`replay`), unless
 * the change is an exact re-delivery of an applied one, which is dropped.
 */

/** A change's place in its key's history (CHANGE_ORDER in pipeline.ts) as one comparable row. */
const position = (alias: string) => `(${alias}._p, ${alias}._r, coalesce(${alias}.__lsn, -1))`;

/** The same change: same place in the key's history (an incremental read has no LSN). */
const sameChange = (a: string, b: string) =>
  `${a}._p = ${b}._p AND ${a}._r = ${b}._r AND ${a}.__lsn IS NOT DISTINCT FROM ${b}.__lsn`;

/** New changes at or before their key's last applied change, or in the same transaction as it. */
export function lateChanges(shape: TableShape, newEvents: string, keys: string): string {
  return `SELECT n.* FROM ${newEvents} n JOIN ${keys} k ON ${keyJoin(shape, "n", "k")}
  WHERE ${position("n")} <= ${position("k")} OR ${sameTransaction(changeOf("n"), changeOf("k"))}`;
}

const samePosition = (shape: TableShape, a: string, b: string) =>
  `${keyJoin(shape, a, b)} AND ${sameChange(a, b)} AND ${a}.__kafka_partition = ${b}.__kafka_partition AND ${a}.__kafka_offset = ${b}.__kafka_offset`;

/** Late changes that are re-deliveries of an applied change at an earlier (or the same) Kafka position. */
export function redeliveries(shape: TableShape, late: string, applied: string): string {
  return `SELECT ${keyList(shape)}, _p, _r, __lsn, __kafka_partition, __kafka_offset FROM ${late} l
  WHERE EXISTS (SELECT 1 FROM ${applied} e WHERE ${keyJoin(shape, "e", "l")} AND ${sameChange("e", "l")}
    AND (e.__kafka_partition, e.__kafka_offset) <= (l.__kafka_partition, l.__kafka_offset))`;
}

/** This run's changes without the dropped re-deliveries. */
export function keptChanges(shape: TableShape, newEvents: string, dropped: string): string {
  return `SELECT * FROM ${newEvents} n WHERE NOT EXISTS (SELECT 1 FROM ${dropped} d WHERE ${samePosition(shape, "d", "n")})`;
}

/** Keys whose history must be recomputed: a late change that is not a dropped re-delivery. */
export function recomputedKeys(shape: TableShape, late: string, dropped: string): string {
  return `SELECT DISTINCT ${keyList(shape, "l.")} FROM ${late} l
  WHERE NOT EXISTS (SELECT 1 FROM ${dropped} d WHERE ${samePosition(shape, "d", "l")})`;
}

/** The predicate: the key of `alias` is (not) in `keys`. */
export const keyIn = (shape: TableShape, alias: string, keys: string, negate = false): string =>
  `${negate ? "NOT " : ""}EXISTS (SELECT 1 FROM ${keys} s WHERE ${keyJoin(shape, "s", alias)})`;

/** Rows of `relation` whose key is (not) in `keys`. */
export function whereKeys(shape: TableShape, relation: string, keys: string, negate = false): string {
  return `SELECT * FROM ${relation} r WHERE ${keyIn(shape, "r", keys, negate)}`;
}

/**
 * One event row per affected key that moves forward, standing for its state before this run: the
 * current version (values and lineage), or, for a deleted key, a delete at its last applied position.
 * It sorts at the last applied change's place (which may be later than the current version's own
 * change: an unchanged update or read after it made no version).
 */
export function priorRows(
  shape: TableShape,
  keys: string,
  current: string,
  affected: string,
  recomputed: string,
): string {
  const values = valueColumns(shape).map((c) => `c.${ident(c.name)}`);
  const pk = shape.primaryKey.map((k) => `k.${ident(k)}`);
  return `SELECT ${[...pk, ...values].join(", ")},
    CASE WHEN k._del THEN 'd' ELSE c.__op END AS __op,
    CASE WHEN k._del THEN k.__lsn ELSE c.__lsn END AS __lsn,
    CASE WHEN k._del THEN k.__txId ELSE c.__txId END AS __txId,
    CASE WHEN k._del THEN k.__source_ts_ms ELSE epoch_ms(c.effective_from) END AS __source_ts_ms,
    c.__source_file, c.__kafka_partition, c.__kafka_offset,
    k._r, k._p, k._del
  FROM (SELECT * FROM ${keys} k WHERE ${keyIn(shape, "k", affected)} AND ${keyIn(shape, "k", recomputed, true)}) k
  LEFT JOIN ${current} c ON ${keyJoin(shape, "k", "c")}`;
}

/** Pipeline input: new changes, all earlier changes of recomputed keys, prior rows of the others. */
export function incrementalInput(
  shape: TableShape,
  parts: { kept: string; replay: string; prior: string; recomputed: string },
): string {
  const columns = list([...shape.primaryKey, ...valueColumns(shape).map((c) => c.name), ...EVENT_META]);
  return [
    `SELECT ${columns} FROM ${parts.kept}`,
    `SELECT ${columns} FROM (${whereKeys(shape, parts.replay, parts.recomputed)})`,
    `SELECT ${columns} FROM (${parts.prior})`,
  ].join("\nUNION ALL ");
}

/** Keeps, of each key's rows, the one of the newest key state file (highest `_gen`). */
const newestPerKey = (shape: TableShape): string =>
  `QUALIFY row_number() OVER (PARTITION BY ${keyList(shape)} ORDER BY _gen DESC) = 1`;

/** The newest key state (highest `_gen`) of each key in `files` that `events` has a change for. */
export function latestKeyState(shape: TableShape, files: string, events: string, several: boolean): string {
  const wanted = `(SELECT ${keyList(shape)} FROM ${events})`;
  const newest = several ? ` ${newestPerKey(shape)}` : "";
  return `SELECT ${keyStateColumns(shape)} FROM ${files} f WHERE ${keyIn(shape, "f", wanted)}${newest}`;
}

/**
 * The key state files (`_gen` 0 the base, then the updates) and a new `update` (`_gen` = `updateGen`,
 * the keys `updated`) merged into one: the base's keys that no update has, and each updated key's newest
 * state. An update has one row per key: only when there are earlier ones (`updateGen` > 1) must the
 * newest be picked.
 */
export function mergedKeyState(
  shape: TableShape,
  files: string,
  update: { rows: string; keys: string },
  updateGen: number,
): string {
  const columns = keyStateColumns(shape);
  const earlier = updateGen > 1;
  const updates = earlier
    ? `(SELECT ${columns} FROM (SELECT ${columns}, _gen FROM ${files} WHERE _gen > 0 UNION ALL SELECT ${columns}, ${updateGen} AS _gen FROM ${update.rows}) ${newestPerKey(shape)})`
    : update.rows;
  const updated = earlier
    ? `(SELECT ${keyList(shape)} FROM ${files} WHERE _gen > 0 UNION ALL SELECT ${keyList(shape)} FROM ${update.keys})`
    : update.keys;
  return `SELECT ${columns} FROM ${files} b WHERE _gen = 0 AND ${keyIn(shape, "b", updated, true)}
  UNION ALL SELECT ${columns} FROM ${updates}`;
}
