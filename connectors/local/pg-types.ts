/**
 * PostgreSQL column → Connect schema and value converter, as Debezium's PostgresValueConverter
 * maps them (data-contract.md §3). Values arrive as PostgreSQL text (pgoutput text mode, or a
 * snapshot query read as text).
 */
import { logicalSchema as logical, type ConnectSchema, type ConnectValue } from "./connect-schema";
import { defaultText } from "./pg-defaults";
import { isSpecialNumeric, numericMapping, toNumber, UnconvertibleValue } from "./pg-numeric";
import { NO_ARRAY_TYPES, specialMapping } from "./pg-special-types";
import {
  epochMicros,
  epochMillis,
  formatZonedTime,
  jdbcDateDays,
  jdbcInstant,
  jdbcZonedTimestamp,
  parseDateDays,
  parseInstant,
  parseIntervalMicros,
  parseTimeMicros,
  zonedTimestamp,
} from "./temporal";

export interface TypeModes {
  decimalHandlingMode: "precise" | "double" | "string";
  timePrecisionMode: "adaptive" | "adaptive_time_microseconds" | "connect";
  binaryHandlingMode: "bytes" | "base64" | "base64-url-safe" | "hex";
  intervalHandlingMode: "numeric" | "string";
  /** `money.fraction.digits`: the scale of money in precise mode. */
  moneyFractionDigits: number;
  hstoreHandlingMode: "json" | "map";
}

/** What the catalog tells about a column (see catalog.ts). */
export interface ColumnInfo {
  name: string;
  typeName: string;
  /** Type category: `b` base, `e` enum, `d` domain... of the column type (or the array element). */
  typeType: string;
  typmod: number;
  notNull: boolean;
  defaultExpr: string | null;
  /** The column's type is a domain (over `typeName`). */
  domain?: boolean;
  /** For arrays: the element type; the other fields describe the element. */
  element?: ElementInfo;
  enumLabels?: string[];
}

export type ElementInfo = Omit<ColumnInfo, "name" | "notNull" | "defaultExpr" | "domain">;

export interface ColumnMapping {
  schema: ConnectSchema;
  convert: (text: string) => ConnectValue;
  /** Where a snapshot row (read over JDBC) converts differently from a streamed one. */
  convertSnapshot?: (text: string) => ConnectValue;
  /** Where an array element converts differently: Debezium reads arrays, streamed ones too, over JDBC. */
  convertElement?: (text: string) => ConnectValue;
  /** Value Debezium puts in a NOT NULL column it has no data for (delete before-image). */
  fallback: ConnectValue;
}

function byteaBuffer(text: string): Buffer {
  if (!text.startsWith("\\x")) throw new Error(`bytea not in hex output format: ${text.slice(0, 20)}`);
  return Buffer.from(text.slice(2), "hex");
}

function binaryMapping(modes: TypeModes): ColumnMapping {
  switch (modes.binaryHandlingMode) {
    case "bytes":
      return { schema: { type: "BYTES", optional: true }, convert: byteaBuffer, fallback: Buffer.alloc(0) };
    case "hex":
      return { schema: { type: "STRING", optional: true }, convert: (t) => t.slice(2), fallback: "" };
    default: {
      const encoding = modes.binaryHandlingMode === "base64" ? "base64" : "base64url";
      return {
        schema: { type: "STRING", optional: true },
        convert: (t) => byteaBuffer(t).toString(encoding),
        fallback: "",
      };
    }
  }
}

/** Precision of a time/timestamp column: typmod, or 6 when unconstrained. */
const timePrecision = (typmod: number): number => (typmod < 0 ? 6 : typmod);

function temporalMapping(info: ColumnInfo, modes: TypeModes): ColumnMapping | undefined {
  const connect = modes.timePrecisionMode === "connect";
  const precision = timePrecision(info.typmod);
  switch (info.typeName) {
    case "date":
      return {
        schema: logical("INT32", connect ? "org.apache.kafka.connect.data.Date" : "io.debezium.time.Date"),
        convert: parseDateDays,
        convertSnapshot: jdbcDateDays,
        convertElement: jdbcDateDays,
        fallback: 0,
      };
    case "time": {
      if (connect) {
        return {
          schema: logical("INT32", "org.apache.kafka.connect.data.Time"),
          convert: (t) => Math.floor(parseTimeMicros(t) / 1000),
          fallback: 0,
        };
      }
      if (precision <= 3 && modes.timePrecisionMode === "adaptive") {
        return {
          schema: logical("INT32", "io.debezium.time.Time"),
          convert: (t) => Math.floor(parseTimeMicros(t) / 1000),
          fallback: 0,
        };
      }
      return {
        schema: logical("INT64", "io.debezium.time.MicroTime"),
        convert: parseTimeMicros,
        fallback: 0,
      };
    }
    case "timestamp": {
      const millis = connect || precision <= 3;
      const name = connect
        ? "org.apache.kafka.connect.data.Timestamp"
        : millis
          ? "io.debezium.time.Timestamp"
          : "io.debezium.time.MicroTimestamp";
      const epoch = millis ? epochMillis : epochMicros;
      return {
        schema: logical("INT64", name),
        convert: (t) => epoch(parseInstant(t)),
        convertElement: (t) => epoch(jdbcInstant(t)),
        fallback: 0,
      };
    }
    case "timestamptz":
      return {
        schema: logical("STRING", "io.debezium.time.ZonedTimestamp"),
        convert: (t) => zonedTimestamp(t, precision),
        convertElement: (t) => jdbcZonedTimestamp(t, precision),
        // JdbcValueConverters' fallback is formatted without the column's precision.
        fallback: "1970-01-01T00:00:00Z",
      };
    case "timetz":
      return {
        schema: logical("STRING", "io.debezium.time.ZonedTime"),
        convert: formatZonedTime,
        fallback: "00:00:00Z",
      };
    case "interval":
      return modes.intervalHandlingMode === "string"
        ? { schema: logical("STRING", "io.debezium.time.Interval"), convert: (t) => t, fallback: "" }
        : {
            schema: logical("INT64", "io.debezium.time.MicroDuration"),
            convert: parseIntervalMicros,
            fallback: 0,
          };
    default:
      return undefined;
  }
}

const STRING_TYPES = new Set(["text", "varchar", "bpchar", "char", "citext", "inet", "cidr", "macaddr"]);
const NAMED_STRINGS: Record<string, string> = {
  uuid: "io.debezium.data.Uuid",
  json: "io.debezium.data.Json",
  jsonb: "io.debezium.data.Json",
  xml: "io.debezium.data.Xml",
};

/**
 * An int8 as Debezium's INT64 (a Java long): a number while it is exact (within ±2^53), else a bigint, which
 * the JSON, Parquet and Avro writers print as its digits. Text of at most 15 characters is always within
 * ±2^53, so the common case costs one length test on top of Number().
 */
export function parseInt8(text: string): number | bigint {
  const value = Number(text);
  return text.length <= 15 || Number.isSafeInteger(value) ? value : BigInt(text);
}

/** Schema and converter of a scalar (non-array) PostgreSQL type; undefined if Debezium skips it. */
export function scalarMapping(info: ElementInfo, modes: TypeModes): ColumnMapping | undefined {
  const full = { name: "", notNull: false, defaultExpr: null, ...info };
  switch (info.typeName) {
    case "bool":
      return {
        schema: { type: "BOOLEAN", optional: true },
        convert: (t) => t === "t" || t === "true",
        fallback: false,
      };
    case "int2":
      return { schema: { type: "INT16", optional: true }, convert: Number, fallback: 0 };
    case "int4":
      return { schema: { type: "INT32", optional: true }, convert: Number, fallback: 0 };
    case "int8":
      return { schema: { type: "INT64", optional: true }, convert: parseInt8, fallback: 0 };
    case "oid":
      return { schema: { type: "INT64", optional: true }, convert: Number, fallback: 0 };
    case "float4":
      return { schema: { type: "FLOAT32", optional: true }, convert: toNumber, fallback: 0 };
    case "float8":
      return { schema: { type: "FLOAT64", optional: true }, convert: toNumber, fallback: 0 };
    case "numeric":
      return numericMapping(info.typmod, modes);
    case "bytea":
      return binaryMapping(modes);
    case "name":
      // Debezium resolves no pgoutput value of type name (an unknown type: null); the snapshot reads it over JDBC.
      return {
        schema: { type: "STRING", optional: true },
        convert: () => null,
        convertSnapshot: (t) => t,
        fallback: "",
      };
  }
  const special = temporalMapping(full, modes) ?? specialMapping(info.typeName, info.typmod, modes);
  if (special) return special;
  if (STRING_TYPES.has(info.typeName)) {
    return { schema: { type: "STRING", optional: true }, convert: (t) => t, fallback: "" };
  }
  const named = NAMED_STRINGS[info.typeName];
  if (named) return { schema: logical("STRING", named), convert: (t) => t, fallback: "" };
  if (info.typeType === "e") {
    return {
      schema: logical("STRING", "io.debezium.data.Enum", {
        parameters: { allowed: (info.enumLabels ?? []).join(",") },
      }),
      convert: (t) => t,
      fallback: "",
    };
  }
  return undefined;
}

/** Splits a one-dimensional PostgreSQL array literal into element texts (null for NULL). */
export function parseArrayLiteral(text: string): (string | null)[] {
  const body = text.replace(/^\[[^\]]*\]=/, "");
  if (!body.startsWith("{") || !body.endsWith("}"))
    throw new Error(`not an array literal: ${text.slice(0, 40)}`);
  if (body.startsWith("{{")) throw new Error("multi-dimensional arrays are not supported");
  const items: (string | null)[] = [];
  let i = 1;
  const end = body.length - 1;
  while (i < end) {
    if (body[i] === '"') {
      let value = "";
      i += 1;
      while (body[i] !== '"') {
        if (body[i] === "\\") i += 1;
        value += body[i];
        i += 1;
      }
      items.push(value);
      i += 1;
    } else {
      let j = i;
      while (j < end && body[j] !== ",") j += 1;
      const raw = body.slice(i, j);
      items.push(raw === "NULL" ? null : raw);
      i = j;
    }
    if (body[i] === ",") i += 1;
  }
  return items;
}

/** The column's default converted like its values; none if unparsable, null, or a struct (KAFKA-12694). */
function columnDefault(info: ColumnInfo, mapping: ColumnMapping): ConnectValue | undefined {
  const text = defaultText(info);
  if (text === undefined || mapping.schema.type === "STRUCT") return undefined;
  try {
    return mapping.convert(text) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Schema (optional unless NOT NULL, with the DDL default) and converter of a table column. */
export function columnMapping(info: ColumnInfo, modes: TypeModes): ColumnMapping | undefined {
  let mapping: ColumnMapping | undefined;
  if (info.element) {
    const element = NO_ARRAY_TYPES.has(info.element.typeName)
      ? undefined
      : scalarMapping(info.element, modes);
    if (!element) return undefined;
    // Debezium builds an enum array's element schema required, every other element schema optional.
    const valueSchema = { ...element.schema, optional: info.element.typeType !== "e" };
    const numericElements = info.element.typeName === "numeric";
    const convertItem = element.convertElement ?? element.convert;
    mapping = {
      schema: { type: "ARRAY", optional: true, valueSchema },
      convert: (t) => {
        const items = parseArrayLiteral(t);
        // pgjdbc fails to read a numeric array holding NaN or an infinity: Debezium emits null, in any mode.
        if (numericElements && items.some((i) => i !== null && isSpecialNumeric(i)))
          throw new UnconvertibleValue(`numeric array ${t}`);
        return items.map((item) => (item === null ? null : convertItem(item)));
      },
      fallback: [],
    };
  } else {
    mapping = scalarMapping(info, modes);
  }
  if (!mapping) return undefined;
  const defaultValue = columnDefault(info, mapping);
  const schema: ConnectSchema = { ...mapping.schema, optional: !info.notNull };
  if (defaultValue !== undefined) schema.defaultValue = defaultValue;
  return { ...mapping, schema, fallback: defaultValue ?? mapping.fallback };
}
