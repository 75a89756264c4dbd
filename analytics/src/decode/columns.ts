import { ident, literal } from "../sql";
import type { ColumnEncoding } from "../types";

/** Debezium's `unavailable.value.placeholder` for unchanged TOASTed values. */
export const PLACEHOLDER = "__debezium_unavailable_value";
/** The placeholder as JSON carries a bytea value: base64 of its bytes. */
const PLACEHOLDER_BASE64 = Buffer.from(PLACEHOLDER).toString("base64");

/**
 * Debezium's ZonedTimestamp text (ISO 8601, UTC) as TIMESTAMPTZ. A year past 9999 is written with a sign
 * (`+10000-01-01T00:00:00Z`), which DuckDB's cast refuses, so the sign is dropped; years before 1 are
 * ISO years (`0000` is 1 BC, `-0043` is 44 BC), as DuckDB reads them. A time past DuckDB's last
 * instant (294247-01-10; PostgreSQL's is 294276-12-31) fails naming the column, the file and the value.
 * Only a signed text takes the slower checked cast: the common one costs what a plain cast does.
 */
const ZONED_MACRO = `CREATE OR REPLACE TEMP MACRO scd2_zoned(v, what) AS CASE
  WHEN starts_with(v, '+') THEN coalesce(TRY_CAST(substr(v, 2) AS TIMESTAMPTZ), error(concat(what,
    ': the timestamp ', v, ' cannot be read as TIMESTAMPTZ (DuckDB holds times up to 294247-01-10)')))
  ELSE CAST(v AS TIMESTAMPTZ) END`;

const DAY_MICROS = 86_400_000_000;

/**
 * A time of day from microseconds since midnight. PostgreSQL's `time` runs to 24:00:00 inclusive, which
 * Debezium delivers as a whole day (86,400,000,000 µs); DuckDB's TIME holds it, but adding a day to
 * 00:00 wraps to 00:00, so it is made explicitly. A value outside that range fails naming the column,
 * the file and the value instead of wrapping into another time.
 */
const TIME_MACRO = `CREATE OR REPLACE TEMP MACRO scd2_time(us, what) AS CASE
  WHEN us IS NULL THEN NULL
  WHEN us >= 0 AND us < ${DAY_MICROS} THEN TIME '00:00:00' + to_microseconds(us)
  WHEN us = ${DAY_MICROS} THEN TIME '24:00:00'
  ELSE error(concat(what, ': the time of day ', us, ' µs is outside 00:00:00 to 24:00:00')) END`;

/**
 * Macros the decode expressions use: scd2_zoned and scd2_time (above), and a big-endian two's-complement
 * byte string (Connect's Decimal unscaled value) of 1 to 16 bytes as HUGEINT, exactly; enough for DECIMAL
 * precision 38 (10^38 - 1 needs 16 bytes). A negative value is -(~b) - 1, so no step needs 2^128
 * (`1::HUGEINT << 128` is out of range). `what` names the column and file in the error for a longer
 * value, which HUGEINT cannot hold.
 */
export const DECODE_MACROS = `CREATE OR REPLACE TEMP MACRO scd2_unscaled(b, what) AS CASE
  WHEN octet_length(b) = 0 THEN 0::HUGEINT
  WHEN octet_length(b) > 16 THEN error(concat(what, ': a decimal unscaled value of ', octet_length(b),
    ' bytes does not fit DuckDB''s HUGEINT (at most 16 bytes, DECIMAL precision 38)'))
  WHEN get_bit(b::BIT, 0) = 1 THEN -(~(b::BIT))::HUGEINT - 1
  ELSE b::BIT::HUGEINT END;
${ZONED_MACRO};
${TIME_MACRO}`;

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;
const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;
const DECIMAL = /^decimal\((\d+),(\d+)\)$/;

/** The type to read a JSON column as, when an encoding is given for it (JSON files carry no schema). */
export function jsonReadType(encoding: ColumnEncoding): string | undefined {
  if (encoding === "as-is") return undefined;
  if (encoding === "zoned-timestamp") return "VARCHAR";
  if (encoding === "date") return "INTEGER";
  if (encoding === "variable-scale-decimal") return "STRUCT(scale INTEGER, value VARCHAR)";
  if (DECIMAL.test(encoding)) return "JSON";
  return "BIGINT";
}

/** Parses `decimal(p,s)`, checking DuckDB's limits. */
export function decimalType(encoding: string): { precision: number; scale: number } | undefined {
  const match = DECIMAL.exec(encoding);
  if (!match) return undefined;
  const precision = Number(match[1]);
  const scale = Number(match[2]);
  if (precision < 1 || precision > 38 || scale > precision) {
    throw new Error(`${encoding} is not a valid DECIMAL (precision 1..38, scale <= precision)`);
  }
  return { precision, scale };
}

/** An unscaled integer (HUGEINT expression) as DECIMAL(p,s), exactly. */
function scaled(unscaled: string, precision: number, scale: number): string {
  const factor = scale === 0 ? "1" : `0.${"0".repeat(scale - 1)}1`;
  return `CAST(CAST(${unscaled} AS DECIMAL(38,0)) * CAST('${factor}' AS DECIMAL(${Math.max(scale, 1)},${scale})) AS DECIMAL(${precision},${scale}))`;
}

/** Significant digits a DOUBLE holds exactly: JSON numbers with more are taken from the line's text. */
export const DOUBLE_DIGITS = 15;

/**
 * DuckDB parses every JSON number as a double, so a NUMERIC decimal of more than 15 digits loses its last
 * ones. The exact value is the number's text in the record's line (`rawLine`): the top-level `"name":`
 * member. It is used only when it parses to the same double DuckDB read (a nested member of the same name
 * would not), else the row fails naming the column and file, rather than keep a rounded value.
 */
function exactJsonNumber(c: string, name: string, rawLine: string, target: string, what: string): string {
  const member = `[{,]"${name.replaceAll("$", "\\$")}":(-?[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)[,}]`;
  const text = `regexp_extract(${rawLine}, ${literal(member)}, 1)`;
  return `CASE WHEN ${text} <> '' AND CAST(${text} AS DOUBLE) = CAST(${c} AS DOUBLE) THEN CAST(${text} AS ${target})
    ELSE error(concat(${what}, ': cannot find the exact text of the number ', CAST(${c} AS VARCHAR), ' in its line')) END`;
}

export function decimalPrecisionOf(encoding: ColumnEncoding | undefined): number | undefined {
  return encoding === undefined ? undefined : decimalType(encoding)?.precision;
}

function decodeDecimal(
  c: string,
  rawType: string,
  encoding: string,
  what: string,
  name: string,
  rawLine: string | undefined,
): string {
  const { precision, scale } = decimalType(encoding) ?? { precision: 38, scale: 0 };
  const target = `DECIMAL(${precision},${scale})`;
  if (NUMERIC.test(rawType) || rawType === "VARCHAR") return `CAST(${c} AS ${target})`;
  if (rawType === "BLOB") return scaled(`scd2_unscaled(${c}, ${what})`, precision, scale);
  if (rawType === "JSON") {
    // The sink's JsonFormat writes decimals as base64 strings, or as numbers with json.decimal.format=NUMERIC.
    const fromBase64 = scaled(`scd2_unscaled(from_base64(${c}->>'$'), ${what})`, precision, scale);
    const number =
      precision > DOUBLE_DIGITS && rawLine !== undefined
        ? exactJsonNumber(c, name, rawLine, target, what)
        : `CAST(CAST(${c} AS VARCHAR) AS ${target})`;
    return `CASE WHEN ${c} IS NULL OR json_type(${c}) = 'NULL' THEN NULL WHEN json_type(${c}) = 'VARCHAR' THEN ${fromBase64} ELSE ${number} END`;
  }
  throw new Error(`is ${rawType}: cannot decode it as ${encoding}`);
}

/** Debezium's {scale, value} struct as DOUBLE (the scale varies per row, so no single DECIMAL fits). */
function decodeVariableScale(c: string, rawType: string, what: string): string {
  if (!rawType.startsWith("STRUCT("))
    throw new Error(`is ${rawType}: cannot decode it as variable-scale-decimal`);
  const bytes = rawType.includes("BLOB") ? `${c}."value"` : `from_base64(${c}."value")`;
  return `CAST(scd2_unscaled(${bytes}, ${what}) AS DOUBLE) / power(10.0, ${c}.scale)`;
}

/** Integer encodings: [target type, expression from the integer (`what` names it in an error)]. */
const FROM_INTEGER: Partial<Record<ColumnEncoding, [string, (c: string, what: string) => string]>> = {
  "micro-timestamp": ["TIMESTAMP", (c) => `make_timestamp(CAST(${c} AS BIGINT))`],
  "milli-timestamp": ["TIMESTAMP", (c) => `epoch_ms(CAST(${c} AS BIGINT))`],
  "nano-timestamp": ["TIMESTAMP", (c) => `make_timestamp(CAST(${c} AS BIGINT) // 1000)`],
  date: ["DATE", (c) => `CAST(DATE '1970-01-01' + CAST(${c} AS INTEGER) AS DATE)`],
  "micro-time": ["TIME", (c, what) => `scd2_time(CAST(${c} AS BIGINT), ${what})`],
  "milli-time": ["TIME", (c, what) => `scd2_time(CAST(${c} AS BIGINT) * 1000, ${what})`],
  // Floored, not truncated: a time a nanosecond before midnight is out of range, not 00:00:00.
  "nano-time": ["TIME", (c, what) => `scd2_time(CAST(fdiv(CAST(${c} AS BIGINT), 1000) AS BIGINT), ${what})`],
  // Microseconds as delivered, not INTERVAL: Parquet's INTERVAL holds no negative value and only 32-bit
  // milliseconds (a duration over 49.7 days would wrap silently).
  "micro-duration": ["BIGINT", (c) => `CAST(${c} AS BIGINT)`],
};

/**
 * The SQL expression that turns column `name`, read by DuckDB as `rawType`, into its decoded value.
 * Without an encoding the column stays as delivered. A column already delivered in the target type
 * (e.g. Parquet-native TIMESTAMP) is kept. Throws a plain Error (the caller names the file) when the
 * delivered type cannot carry the encoding. `fileKey` is a SQL expression for the row's source file, named
 * in the errors raised while decoding (a decimal too wide for DuckDB). `rawLine` is a SQL expression for
 * a JSON record's text, for decimals of more than DOUBLE_DIGITS digits (see exactJsonNumber).
 */
export function decodeExpression(
  name: string,
  rawType: string,
  encoding: ColumnEncoding | undefined,
  fileKey?: string,
  rawLine?: string,
): string {
  const c = ident(name);
  const what =
    fileKey === undefined
      ? literal(`column ${name}`)
      : `concat(${literal(`column ${name} in `)}, ${fileKey})`;
  if (encoding === undefined || encoding === "as-is") return c;
  if (encoding === "zoned-timestamp") {
    if (rawType === "VARCHAR") return `scd2_zoned(${c}, ${what})`;
    if (rawType.startsWith("TIMESTAMP")) return `CAST(${c} AS TIMESTAMPTZ)`;
    throw new Error(`is ${rawType}: cannot decode it as zoned-timestamp`);
  }
  if (encoding === "variable-scale-decimal") return decodeVariableScale(c, rawType, what);
  if (DECIMAL.test(encoding)) return decodeDecimal(c, rawType, encoding, what, name, rawLine);
  const [target, fromInteger] = FROM_INTEGER[encoding] ?? [];
  if (target === undefined || fromInteger === undefined) throw new Error(`has unknown encoding ${encoding}`);
  if (INTEGER.test(rawType)) return fromInteger(c, what);
  if (rawType === target || (target === "TIMESTAMP" && rawType.startsWith("TIMESTAMP"))) {
    return `CAST(${c} AS ${target})`;
  }
  throw new Error(`is ${rawType}: cannot decode it as ${encoding}`);
}

/**
 * A boolean SQL expression: the column holds Debezium's unavailable-value placeholder (as text, as
 * bytes, as base64 text, or as a one-element list), qualified by `alias` when given. `undefined` for
 * types that cannot carry it.
 */
export function placeholderTest(name: string, type: string, alias?: string): string | undefined {
  const c = alias === undefined ? ident(name) : `${alias}.${ident(name)}`;
  const text = `${literal(PLACEHOLDER)}`;
  if (type === "VARCHAR") return `coalesce(${c} IN (${text}, ${literal(PLACEHOLDER_BASE64)}), false)`;
  if (type === "BLOB") return `coalesce(${c} = ${text}::BLOB, false)`;
  if (type === "VARCHAR[]") return `coalesce(${c} = [${text}], false)`;
  if (type === "BLOB[]") return `coalesce(${c} = [${text}::BLOB], false)`;
  return undefined;
}
