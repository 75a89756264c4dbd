/**
 * What a Kafka record written by JsonConverter (`schemas.enable=true`) holds, back as the Connect schema and
 * value the S3 sink's task receives (JsonConverter.toConnectData): the `{ schema, payload }` envelope read
 * with the converter's own rules (type names, `items`/`keys`/`values`, bytes and Decimals as base64).
 */
import type { ConnectSchema, ConnectType, ConnectValue } from "../../../connectors/local/connect-schema";
import { DECIMAL_NAME } from "../../../connectors/local/connect-schema";

/** JsonConverter's schema JSON (JsonSchema.ENVELOPE_SCHEMA). */
interface JsonSchema {
  type: string;
  optional?: boolean;
  name?: string;
  version?: number;
  doc?: string;
  parameters?: Record<string, string>;
  default?: unknown;
  field?: string;
  fields?: JsonSchema[];
  items?: JsonSchema;
  keys?: JsonSchema;
  values?: JsonSchema;
}

const TYPES: Record<string, ConnectType> = {
  int8: "INT8",
  int16: "INT16",
  int32: "INT32",
  int64: "INT64",
  float: "FLOAT32",
  double: "FLOAT64",
  boolean: "BOOLEAN",
  string: "STRING",
  bytes: "BYTES",
  array: "ARRAY",
  map: "MAP",
  struct: "STRUCT",
};

/** A two's-complement big-endian integer (BigInteger.toByteArray), as a Decimal's unscaled value. */
function signedBigInt(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt.asIntN(bytes.length * 8, BigInt(`0x${bytes.toString("hex")}`));
}

export function connectSchema(json: JsonSchema): ConnectSchema {
  const type = TYPES[json.type];
  if (type === undefined)
    throw new Error(`JsonConverter schema type ${JSON.stringify(json.type)} is unknown`);
  const schema: ConnectSchema = { type, optional: json.optional ?? false };
  if (json.name !== undefined) schema.name = json.name;
  if (json.version !== undefined) schema.version = json.version;
  if (json.doc !== undefined) schema.doc = json.doc;
  if (json.parameters !== undefined) schema.parameters = json.parameters;
  if (json.items !== undefined) schema.valueSchema = connectSchema(json.items);
  if (json.keys !== undefined) schema.keySchema = connectSchema(json.keys);
  if (json.values !== undefined) schema.valueSchema = connectSchema(json.values);
  if (json.fields !== undefined)
    schema.fields = json.fields.map((f) => ({ name: f.field!, schema: connectSchema(f) }));
  if (json.default !== undefined) schema.defaultValue = connectValue(schema, json.default);
  return schema;
}

/** A payload value of `schema`; an absent or null optional value is null. */
export function connectValue(schema: ConnectSchema, json: unknown): ConnectValue {
  if (json === null || json === undefined) return schema.defaultValue ?? null;
  if (schema.name === DECIMAL_NAME) {
    const unscaled = signedBigInt(Buffer.from(json as string, "base64"));
    return { kind: "decimal", unscaled, scale: Number(schema.parameters?.scale ?? 0) };
  }
  switch (schema.type) {
    case "BYTES":
      return Buffer.from(json as string, "base64");
    case "INT64":
      if (!Number.isSafeInteger(json)) throw new Error(`int64 ${String(json)} lost precision in JSON.parse`);
      return json as number;
    case "ARRAY":
      return (json as unknown[]).map((item) => connectValue(schema.valueSchema!, item));
    case "MAP": {
      // String keys are a JSON object; other keys an array of [key, value] pairs.
      const entries = Array.isArray(json) ? (json as [unknown, unknown][]) : Object.entries(json);
      return new Map(entries.map(([k, v]) => [String(k), connectValue(schema.valueSchema!, v)]));
    }
    case "STRUCT": {
      const struct = json as Record<string, unknown>;
      return Object.fromEntries(schema.fields!.map((f) => [f.name, connectValue(f.schema, struct[f.name])]));
    }
    default:
      return json as ConnectValue;
  }
}

/** A record value as JsonConverter wrote it: the schema and the value, or null for a tombstone. */
export function fromJsonConverter(
  envelope: unknown,
): { schema: ConnectSchema; value: Record<string, ConnectValue> } | null {
  if (envelope === null) return null;
  const { schema, payload } = envelope as { schema: JsonSchema; payload: unknown };
  const connect = connectSchema(schema);
  return { schema: connect, value: connectValue(connect, payload) as Record<string, ConnectValue> };
}
