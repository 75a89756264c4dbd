/**
 * A local runtime record as Kafka's JsonConverter (schemas.enable=true, decimal.format BASE64: the Connect
 * worker's converter) writes it to the topic: `{schema, payload}`, so it compares with what real Debezium
 * wrote. json-converter.test.ts holds this translation to the real JsonConverter, byte for byte.
 */
import {
  isDecimal,
  twosComplementBytes,
  type ConnectSchema,
  type ConnectValue,
} from "../../../connectors/local/connect-schema";
import type { UnwrappedRecord } from "../../../connectors/local";
import { javaDoubleString } from "../../../connectors/local/java-compat";

/** JSON as JSON.parse gives it, and a bigint where the runtime's INT64 is beyond ±2^53. */
export type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

const TYPE_NAMES: Record<ConnectSchema["type"], string> = {
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  FLOAT32: "float",
  FLOAT64: "double",
  BOOLEAN: "boolean",
  STRING: "string",
  BYTES: "bytes",
  ARRAY: "array",
  MAP: "map",
  STRUCT: "struct",
};

/** JsonConverter.asJsonSchema: type, then items/keys/values/fields, optional, name, version, doc, parameters, default. */
export function schemaJson(schema: ConnectSchema): { [key: string]: Json } {
  const json: { [key: string]: Json } = { type: TYPE_NAMES[schema.type] };
  if (schema.type === "ARRAY") json.items = schemaJson(schema.valueSchema!);
  if (schema.type === "MAP") {
    json.keys = schemaJson(schema.keySchema!);
    json.values = schemaJson(schema.valueSchema!);
  }
  if (schema.type === "STRUCT")
    json.fields = schema.fields!.map((f) => ({ ...schemaJson(f.schema), field: f.name }));
  json.optional = schema.optional;
  if (schema.name !== undefined) json.name = schema.name;
  if (schema.version !== undefined) json.version = schema.version;
  if (schema.doc !== undefined) json.doc = schema.doc;
  if (schema.parameters !== undefined) json.parameters = { ...schema.parameters };
  if (schema.defaultValue !== undefined) json.default = valueJson(schema.defaultValue, schema);
  return json;
}

/**
 * JsonConverter.convertToJson with decimal.format BASE64: bytes and decimals as base64, a null replaced by
 * the schema's default (replace.null.with.default, on by default).
 */
export function valueJson(value: ConnectValue, schema: ConnectSchema): Json {
  if (value === null)
    return schema.defaultValue === undefined ? null : valueJson(schema.defaultValue, schema);
  // Jackson writes NaN and infinities as strings (WRITE_NAN_AS_STRINGS).
  if (typeof value === "number" && !Number.isFinite(value)) return javaDoubleString(value);
  if (typeof value !== "object") return value;
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (Array.isArray(value)) return value.map((v) => valueJson(v, schema.valueSchema!));
  if (isDecimal(value)) return twosComplementBytes(value.unscaled).toString("base64");
  if (value instanceof Map) {
    const entries: { [key: string]: Json } = {};
    for (const [k, v] of value) entries[k] = valueJson(v, schema.valueSchema!);
    return entries;
  }
  const struct: { [key: string]: Json } = {};
  for (const field of schema.fields!) struct[field.name] = valueJson(value[field.name] ?? null, field.schema);
  return struct;
}

/** JSON text parsed with every integer beyond ±2^53 as a bigint (JSON.parse would round it). */
export function parseExactJson(text: string): Json {
  const marked = text.replace(/(?<=[:,[])(-?\d{16,})(?=[,\]}])/g, (digits) =>
    Number.isSafeInteger(Number(digits)) ? digits : `"\\u0000${digits}"`,
  );
  return JSON.parse(marked, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith("\u0000") ? BigInt(value.slice(1)) : value,
  ) as Json;
}

export interface EnvelopeRecord {
  topic: string;
  /** The record's offset in its topic. */
  offset: number;
  value: { schema: Json; payload: Json };
}

/** The records of one run as a topic consumer would read them: offsets counted per topic. */
export function envelopes(records: UnwrappedRecord[]): EnvelopeRecord[] {
  const offsets = new Map<string, number>();
  return records.map((record) => {
    const offset = offsets.get(record.topic) ?? 0;
    offsets.set(record.topic, offset + 1);
    return {
      topic: record.topic,
      offset,
      value: {
        schema: schemaJson(record.schema),
        payload: record.value === null ? null : valueJson(record.value, record.schema),
      },
    };
  });
}
