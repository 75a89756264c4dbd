import type { Duck } from "../duck";
import { ident } from "../sql";
import {
  carriedColumns,
  collapseFacts,
  collapsibleGroups,
  eventFacts,
  placeholderColumns,
  placeholderNames,
  pointedValues,
  rowBytes,
  versionFacts,
  widenFacts,
} from "./facts";
import type { JoinChunk } from "./join-chunks";
import { JOIN_BYTES_PER_FACT, WHOLE } from "./join-chunks";
import type { TableShape } from "./shape";

export interface FastPass {
  /** The join of `facts` (those of `chunk`) back to the changes' values. */
  widen(facts: string, chunk: JoinChunk): string;
  /** Memory the placeholder values take in that join. */
  pointedBytes: number;
  /** Average bytes of a change's values in the input. */
  rowBytes: number;
}

/**
 * The fast pass over `input`: creates `scd2_vfacts`, one row of facts per change that survives the
 * collapse (re-deliveries and all but the last change of each transaction removed, placeholders resolved),
 * with its next change. Returns how to join a relation of such facts back to the changes' values. The
 * collapse pass is skipped when there is nothing to collapse.
 */
export async function fastFacts(duck: Duck, shape: TableShape, input: string): Promise<FastPass> {
  const query = placeholderColumns(shape, input);
  const [found = {}] = query ? await duck.rows(query) : [];
  const names = placeholderNames(shape, found);
  const bytes = rowBytes(shape, Number(found.bytes ?? 0));
  const carried = carriedColumns(shape, names);
  const collapse = carried.length > 0 || (await duck.count(collapsibleGroups(shape, input))) > 0;
  const facts = `(${eventFacts(shape, input, carried)})`;
  const collapsed = collapse ? `(${collapseFacts(shape, facts, carried)})` : facts;
  await duck.run(`CREATE TEMP TABLE scd2_vfacts AS ${versionFacts(shape, collapsed, carried)}`);
  const pointed = carried.map((_, i) => `scd2_pointed${i}`);
  let pointedBytes = 0;
  for (const [i, table] of pointed.entries()) {
    await duck.run(`CREATE TEMP TABLE ${table} AS ${pointedValues(shape, "scd2_vfacts", input, carried, i)}`);
    const value = ident(carried[i]!.name);
    pointedBytes += await duck.count(
      `SELECT count(*) * ${JOIN_BYTES_PER_FACT} + coalesce(sum(strlen(CAST(${value} AS VARCHAR))), 0) FROM ${table}`,
    );
  }
  return {
    widen: (facts, chunk) =>
      chunk === WHOLE
        ? widenFacts(shape, facts, input, carried, pointed)
        : widenFacts(
            shape,
            facts,
            `(SELECT * FROM ${input} WHERE ${chunk.input})`,
            carried,
            // Only the values this piece's facts point to (they may sit in any file).
            pointed.map(
              (table, i) =>
                `(SELECT * FROM ${table} WHERE _row IN (SELECT _c${i} FROM ${facts} WHERE _c${i} IS NOT NULL))`,
            ),
          ),
    pointedBytes,
    rowBytes: bytes,
  };
}
