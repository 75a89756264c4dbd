/**
 * Connect schema → Avro schema JSON, as Confluent's AvroData.fromConnectSchema builds it (with
 * `connect.meta.data` on, the S3 sink's default), serialized like Avro's Schema.toString(). The
 * Parquet files carry it under `parquet.avro.schema`, as parquet-avro writes it.
 */
import {
  DECIMAL_NAME,
  PRECISION_PARAMETER,
  isDecimal,
  twosComplementBytes,
  type ConnectSchema,
  type ConnectValue,
} from "./connect-schema";

type AvroJson = string | Record<string, unknown> | AvroJson[];

const PRIMITIVES: Record<string, string> = {
  INT8: "int",
  INT16: "int",
  INT32: "int",
  INT64: "long",
  FLOAT32: "float",
  FLOAT64: "double",
  BOOLEAN: "boolean",
  STRING: "string",
  BYTES: "bytes",
};

const LOGICAL_TYPES: Record<string, string> = {
  "org.apache.kafka.connect.data.Date": "date",
  "org.apache.kafka.connect.data.Time": "time-millis",
  "org.apache.kafka.connect.data.Timestamp": "timestamp-millis",
};

/** AvroData.defaultValueFromConnect: bytes become ISO-8859-1 strings. */
function avroDefault(schema: ConnectSchema, value: ConnectValue): unknown {
  if (isDecimal(value)) return twosComplementBytes(value.unscaled).toString("latin1");
  if (Buffer.isBuffer(value)) return value.toString("latin1");
  if (Array.isArray(value)) return value.map((v) => avroDefault(schema.valueSchema!, v));
  if (value instanceof Map)
    return Object.fromEntries([...value].map(([k, v]) => [k, avroDefault(schema.valueSchema!, v)]));
  return value;
}

function splitName(full: string): { name: string; namespace: string } {
  const dot = full.lastIndexOf(".");
  return dot < 0
    ? { name: full, namespace: "" }
    : { name: full.slice(dot + 1), namespace: full.slice(0, dot) };
}

function baseSchema(schema: ConnectSchema): Record<string, unknown> {
  if (schema.type === "ARRAY") return { type: "array", items: toAvro(schema.valueSchema!) };
  // AvroData: a map with required string keys is an Avro map (other keys would be entry records).
  if (schema.type === "MAP") {
    if (schema.keySchema?.type !== "STRING" || schema.keySchema.optional)
      throw new Error("only MAP schemas with required STRING keys are supported");
    return { type: "map", values: toAvro(schema.valueSchema!) };
  }
  if (schema.type === "STRUCT") {
    const { name, namespace } = schema.name
      ? splitName(schema.name)
      : { name: "ConnectDefault", namespace: "io.confluent.connect.avro" };
    return {
      type: "record",
      name,
      ...(namespace ? { namespace } : {}),
      fields: schema.fields!.map(avroField),
    };
  }
  const base: Record<string, unknown> = { type: PRIMITIVES[schema.type] };
  if (schema.name === DECIMAL_NAME) {
    base.scale = Number(schema.parameters?.scale ?? 0);
    base.precision = Number(schema.parameters?.[PRECISION_PARAMETER] ?? 64);
  }
  return base;
}

/** The non-union Avro schema of a Connect schema, with AvroData's `connect.*` properties. */
function annotated(schema: ConnectSchema): AvroJson {
  const base = baseSchema(schema);
  if (schema.doc !== undefined) base["connect.doc"] = schema.doc;
  if (schema.version !== undefined) base["connect.version"] = schema.version;
  if (schema.parameters && Object.keys(schema.parameters).length > 0)
    base["connect.parameters"] = schema.parameters;
  if (schema.defaultValue !== undefined) base["connect.default"] = avroDefault(schema, schema.defaultValue);
  if (schema.name !== undefined) base["connect.name"] = schema.name;
  if (schema.type === "INT8") base["connect.type"] = "int8";
  if (schema.type === "INT16") base["connect.type"] = "int16";
  if (schema.name === DECIMAL_NAME) base.logicalType = "decimal";
  const logicalType = schema.name === undefined ? undefined : LOGICAL_TYPES[schema.name];
  if (logicalType) base.logicalType = logicalType;
  const keys = Object.keys(base);
  return keys.length === 1 && typeof base.type === "string" ? base.type : base;
}

export function toAvro(schema: ConnectSchema): AvroJson {
  const base = annotated(schema);
  if (!schema.optional) return base;
  return schema.defaultValue !== undefined ? [base, "null"] : ["null", base];
}

function avroField(field: { name: string; schema: ConnectSchema }): Record<string, unknown> {
  const out: Record<string, unknown> = { name: field.name, type: toAvro(field.schema) };
  if (field.schema.defaultValue !== undefined)
    out.default = avroDefault(field.schema, field.schema.defaultValue);
  else if (field.schema.optional) out.default = null;
  return out;
}

/**
 * `parquet.avro.schema`: the record schema as compact JSON. A bigint default (a timestamp far from 1970) is
 * written as its digits, as Avro writes a long: JSON.stringify refuses bigints, so they pass as tokens that
 * no schema string can hold (PostgreSQL names and labels hold no NUL).
 */
export function avroSchemaJson(schema: ConnectSchema): string {
  const bigints: bigint[] = [];
  const text = JSON.stringify(toAvro(schema), (_key, value: unknown) =>
    typeof value === "bigint" ? `\u0000${bigints.push(value) - 1}` : value,
  );
  return text.replace(/"\\u0000(\d+)"/g, (_match, i: string) => bigints[Number(i)]!.toString());
}
