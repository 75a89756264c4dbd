/**
 * Comparing records of two runs: the values that depend on the run (LSNs, txIds, commit and snapshot times,
 * the `sequence` positions) are replaced by their form once it is checked, everything else stays as it is,
 * in its order.
 */
import type { EnvelopeRecord, Json } from "./connect-json";

const LSN = /^\d+$/;
const isCount = (value: Json): boolean => Number.isSafeInteger(value) && (value as number) > 0;

/** Volatile `add.fields` columns: the form each must have (given the whole row). */
const FORMS: Record<string, (value: Json, row: { [key: string]: Json }) => boolean> = {
  __lsn: isCount,
  __txId: isCount,
  // A commit or snapshot time in milliseconds, later than 2020.
  __source_ts_ms: (value) => Number.isSafeInteger(value) && (value as number) > 1_577_836_800_000,
  // [last commit LSN or null, this change's LSN], both as decimal strings; an incremental snapshot's read has
  // no LSN of its own and carries the last commit twice.
  __sequence: (value, row) => {
    const parsed = typeof value === "string" ? (JSON.parse(value) as Json) : null;
    if (!Array.isArray(parsed) || parsed.length !== 2) return false;
    const [last, lsn] = parsed;
    const position = row.__lsn === null ? lsn === last : lsn === String(row.__lsn);
    return (last === null || (typeof last === "string" && LSN.test(last))) && position;
  },
};

/** The form a volatile value stands for; the sequence keeps whether its first position is null. */
function token(field: string, value: Json): Json {
  if (field !== "__sequence") return `<${field}>`;
  const [last] = JSON.parse(value as string) as [string | null];
  return JSON.stringify([last === null ? null : "<lsn>", "<lsn>"]);
}

/** The record with its volatile values replaced by their form (or marked where the form is wrong). */
export function byForm(record: EnvelopeRecord): EnvelopeRecord {
  const payload = record.value.payload;
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return record;
  const normalized: { [key: string]: Json } = {};
  for (const [field, value] of Object.entries(payload)) {
    const form = FORMS[field];
    // A null (an incremental read's __lsn and __txId) is compared as it is.
    if (!form || value === null) normalized[field] = value;
    else
      normalized[field] = form(value, payload)
        ? token(field, value)
        : `<${field} of a wrong form: ${JSON.stringify(value)}>`;
  }
  return { ...record, value: { ...record.value, payload: normalized } };
}

/**
 * A JsonFormat line with its volatile values replaced by their form, as text (so every other byte is
 * compared): the same tokens as `byForm`.
 */
export function lineByForm(line: string): string {
  return line
    .replace(/"(__lsn|__txId|__source_ts_ms)":[1-9]\d*/g, '"$1":"<$1>"')
    .replace(
      /"__sequence":"\[(null|\\"\d+\\"),\\"\d+\\"\]"/,
      (_m, last: string) =>
        `"__sequence":${JSON.stringify(JSON.stringify([last === "null" ? null : "<lsn>", "<lsn>"]))}`,
    );
}

/** Every key of a JSON value in document order, as paths: what `toEqual` does not compare. */
export function keyOrder(value: Json, path = ""): string[] {
  if (value === null || typeof value !== "object") return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => keyOrder(v, `${path}[${i}]`));
  return Object.entries(value).flatMap(([k, v]) => [`${path}.${k}`, ...keyOrder(v, `${path}.${k}`)]);
}

/** The volatile values of a record, as they are (for runs on the same WAL, where they must be equal). */
export function volatileValues(record: EnvelopeRecord): { [key: string]: Json } {
  const payload = record.value.payload as { [key: string]: Json };
  return Object.fromEntries(Object.keys(FORMS).map((field) => [field, payload[field] ?? null]));
}

/** Records of one topic, by offset. */
export const ofTopic = (records: EnvelopeRecord[], topic: string): EnvelopeRecord[] =>
  records.filter((r) => r.topic === topic).sort((a, b) => a.offset - b.offset);
