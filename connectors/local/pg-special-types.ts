/**
 * PostgreSQL types beyond data-contract.md §3 that Debezium 3.x maps (PostgresValueConverter):
 * money, bit/varbit, hstore, ltree, ranges, tsvector and point. Values arrive as PostgreSQL text
 * (session settings in catalog.ts, `lc_monetary` printing money as `$1,234.56`).
 */
import {
  DECIMAL_NAME,
  logicalSchema as logical,
  type ConnectValue,
  type DecimalValue,
} from "./connect-schema";
import { jacksonString, javaHashMapOrder } from "./java-compat";
import type { ColumnMapping, TypeModes } from "./pg-types";

const same = (text: string): string => text;

/** Plain or exponent decimal text (`-1234.5`, `9.2E16`) → exact decimal rounded HALF_UP to `scale`. */
export function roundedDecimal(text: string, scale: number): DecimalValue {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:E([+-]?\d+))?$/i.exec(text);
  if (!m) throw new Error(`not a decimal number: ${text}`);
  const fraction = m[3] ?? "";
  let unscaled = BigInt(`${m[2] ?? ""}${fraction}` || "0");
  let natural = fraction.length - Number(m[4] ?? 0);
  if (natural < scale) {
    unscaled *= 10n ** BigInt(scale - natural);
    natural = scale;
  }
  if (natural > scale) {
    const divisor = 10n ** BigInt(natural - scale);
    const rest = unscaled % divisor;
    unscaled = unscaled / divisor + (2n * rest >= divisor ? 1n : 0n);
  }
  return { kind: "decimal", unscaled: m[1] === "-" ? -unscaled : unscaled, scale };
}

/**
 * Money text (`$1,234.56`, `-$0.50`) → plain number text, as Debezium reads it: one currency
 * character dropped, thousands separators removed.
 */
function moneyNumber(text: string): string {
  const negative = text.startsWith("-");
  const plain = (negative ? text.slice(1) : text).slice(1).replace(/,/g, "");
  if (!/^\d+(?:\.\d+)?$/.test(plain)) throw new Error(`money value not in the $1,234.56 form: ${text}`);
  return negative ? `-${plain}` : plain;
}

/** money by decimal.handling.mode: the snapshot and the stream both read its text as a BigDecimal (PostgresMoney). */
function moneyMapping(modes: TypeModes): ColumnMapping {
  const digits = modes.moneyFractionDigits;
  switch (modes.decimalHandlingMode) {
    case "double":
      return {
        schema: { type: "FLOAT64", optional: true },
        convert: (t) => Number(moneyNumber(t)),
        fallback: 0,
      };
    case "string":
      return {
        schema: { type: "STRING", optional: true },
        convert: moneyNumber,
        fallback: (0).toFixed(digits),
      };
    default:
      return {
        schema: logical("BYTES", DECIMAL_NAME, { parameters: { scale: String(digits) } }),
        convert: (t) => roundedDecimal(moneyNumber(t), digits),
        fallback: { kind: "decimal", unscaled: 0n, scale: digits },
      };
  }
}

/** Bit string text (`1011`) → Debezium Bits: java.util.BitSet.toByteArray (bit 0 = last char), little-endian. */
export function bitsBytes(text: string): Buffer {
  const highest = text.length - 1 - text.indexOf("1");
  if (text.indexOf("1") < 0) return Buffer.alloc(0);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (let i = 0; i <= highest; i += 1) {
    if (text[text.length - 1 - i] === "1") bytes[i >> 3]! |= 1 << (i & 7);
  }
  return bytes;
}

/** bit(1)/varbit(1) → BOOLEAN; longer → BYTES io.debezium.data.Bits (length 2^31-1 when unbounded). */
function bitsMapping(typmod: number): ColumnMapping {
  const length = typmod < 0 ? 2_147_483_647 : typmod;
  if (length <= 1)
    return { schema: { type: "BOOLEAN", optional: true }, convert: (t) => t.includes("1"), fallback: false };
  return {
    schema: logical("BYTES", "io.debezium.data.Bits", { parameters: { length: String(length) } }),
    convert: bitsBytes,
    fallback: Buffer.alloc(0),
  };
}

/** hstore text (`"a"=>"1", "b"=>NULL`) → entries in the order pgjdbc's HashMap gives them. */
export function parseHstore(text: string): Map<string, string | null> {
  const parsed = new Map<string, string | null>();
  const token = /\s*"((?:[^"\\]|\\.)*)"\s*=>\s*(?:"((?:[^"\\]|\\.)*)"|(NULL))\s*(?:,|$)/y;
  const unescape = (s: string): string => s.replace(/\\(.)/g, "$1");
  while (token.lastIndex < text.length) {
    const start = token.lastIndex;
    const m = token.exec(text);
    if (!m) throw new Error(`not an hstore value at offset ${start}: ${text.slice(start, start + 40)}`);
    parsed.set(unescape(m[1]!), m[3] ? null : unescape(m[2]!));
  }
  const ordered = new Map<string, string | null>();
  for (const key of javaHashMapOrder([...parsed.keys()])) ordered.set(key, parsed.get(key)!);
  return ordered;
}

/** hstore.handling.mode: json → io.debezium.data.Json (Jackson-written object), map → MAP<STRING, STRING>. */
function hstoreMapping(modes: TypeModes): ColumnMapping {
  if (modes.hstoreHandlingMode === "map") {
    return {
      schema: {
        type: "MAP",
        optional: true,
        keySchema: { type: "STRING", optional: false },
        valueSchema: { type: "STRING", optional: true },
      },
      convert: parseHstore,
      fallback: new Map<string, ConnectValue>(),
    };
  }
  return {
    schema: logical("STRING", "io.debezium.data.Json"),
    convert: (t) => {
      const entries = [...parseHstore(t)].map(
        ([k, v]) => `${jacksonString(k)}:${v === null ? "null" : jacksonString(v)}`,
      );
      return `{${entries.join(",")}}`;
    },
    fallback: "{}",
  };
}

/** OGC WKB of a 2D point, as Debezium's Point builds it (byte order mark 1, little-endian). */
function wkbPoint(x: number, y: number): Buffer {
  const wkb = Buffer.alloc(21);
  wkb.writeUInt8(1, 0);
  wkb.writeInt32LE(1, 1);
  wkb.writeDoubleLE(x, 5);
  wkb.writeDoubleLE(y, 13);
  return wkb;
}

const POINT_SCHEMA = logical("STRUCT", "io.debezium.data.geometry.Point", {
  doc: "Geometry (POINT)",
  fields: [
    { name: "x", schema: { type: "FLOAT64", optional: false } },
    { name: "y", schema: { type: "FLOAT64", optional: false } },
    { name: "wkb", schema: { type: "BYTES", optional: true } },
    { name: "srid", schema: { type: "INT32", optional: true } },
  ],
});

const pointValue = (x: number, y: number): ConnectValue => ({ x, y, wkb: wkbPoint(x, y), srid: null });

function pointMapping(): ColumnMapping {
  return {
    schema: POINT_SCHEMA,
    convert: (t) => {
      const m = /^\(([^,]+),([^)]+)\)$/.exec(t);
      if (!m) throw new Error(`not a point: ${t}`);
      return pointValue(Number(m[1]), Number(m[2]));
    },
    fallback: pointValue(0, 0),
  };
}

const RANGES = new Set(["int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange"]);
const NAMED = { ltree: "io.debezium.data.Ltree", tsvector: "io.debezium.data.Tsvector" } as Record<
  string,
  string
>;

/** Types Debezium maps only as columns, not as array elements (their arrays are skipped). */
export const NO_ARRAY_TYPES = new Set(["money", "bit", "varbit", "point", "interval", "name", "xml"]);

/** Mapping of one of the types above; undefined for any other type. */
export function specialMapping(
  typeName: string,
  typmod: number,
  modes: TypeModes,
): ColumnMapping | undefined {
  switch (typeName) {
    case "money":
      return moneyMapping(modes);
    case "bit":
    case "varbit":
      return bitsMapping(typmod);
    case "hstore":
      return hstoreMapping(modes);
    case "point":
      return pointMapping();
  }
  if (RANGES.has(typeName))
    return { schema: { type: "STRING", optional: true }, convert: same, fallback: "" };
  const name = NAMED[typeName];
  return name ? { schema: logical("STRING", name), convert: same, fallback: "" } : undefined;
}
