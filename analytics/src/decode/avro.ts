import { z } from "zod";
import type { ColumnEncoding } from "../types";

/** The footer key under which parquet-avro (the Confluent S3 sink's ParquetFormat) stores the Avro schema. */
export const AVRO_SCHEMA_KEY = "parquet.avro.schema";

const avroRecord = z.object({
  type: z.literal("record"),
  fields: z.array(z.object({ name: z.string(), type: z.unknown() })),
});

const connectType = z.looseObject({
  "connect.name": z.string().optional(),
  "connect.parameters": z.record(z.string(), z.string()).optional(),
  precision: z.number().int().optional(),
  scale: z.number().int().optional(),
});

/** Debezium / Kafka Connect logical names whose values need decoding, and the encoding each means. */
const BY_CONNECT_NAME: Record<string, ColumnEncoding> = {
  "io.debezium.time.MicroTimestamp": "micro-timestamp",
  "io.debezium.time.Timestamp": "milli-timestamp",
  "io.debezium.time.NanoTimestamp": "nano-timestamp",
  "io.debezium.time.ZonedTimestamp": "zoned-timestamp",
  "io.debezium.time.Date": "date",
  "io.debezium.time.MicroTime": "micro-time",
  "io.debezium.time.Time": "milli-time",
  "io.debezium.time.NanoTime": "nano-time",
  "io.debezium.time.MicroDuration": "micro-duration",
  "io.debezium.data.VariableScaleDecimal": "variable-scale-decimal",
};

/** Connect's Decimal: precision from `connect.decimal.precision` (or Avro `precision`), default 38. */
function decimalEncoding(type: z.infer<typeof connectType>): ColumnEncoding {
  const params = type["connect.parameters"] ?? {};
  const scale = Number(params.scale ?? type.scale ?? 0);
  const precision = Number(params["connect.decimal.precision"] ?? type.precision ?? 38);
  return `decimal(${precision},${scale})`;
}

/** The encoding a field's Avro type declares, looking through `["null", T]` unions. */
function encodingOfType(type: unknown): ColumnEncoding | undefined {
  if (Array.isArray(type)) {
    const branches = type.filter((branch) => branch !== "null");
    return branches.length === 1 ? encodingOfType(branches[0]) : undefined;
  }
  const parsed = connectType.safeParse(type);
  if (!parsed.success) return undefined;
  const name = parsed.data["connect.name"];
  if (name === "org.apache.kafka.connect.data.Decimal") return decimalEncoding(parsed.data);
  return name === undefined ? undefined : BY_CONNECT_NAME[name];
}

/**
 * Reads the encodings an Avro value schema declares, by column name. Columns whose type needs no
 * decoding (plain ints, strings, Json/Uuid strings, Parquet-native logical types) are absent.
 * Throws a plain Error with the reason when the text is not an Avro record schema.
 */
export function encodingsFromAvroSchema(schemaText: string): Map<string, ColumnEncoding> {
  let json: unknown;
  try {
    json = JSON.parse(schemaText);
  } catch (error) {
    throw new Error(`${AVRO_SCHEMA_KEY} is not JSON: ${(error as Error).message}`);
  }
  const record = avroRecord.safeParse(json);
  if (!record.success) throw new Error(`${AVRO_SCHEMA_KEY} is not an Avro record schema with fields`);
  const encodings = new Map<string, ColumnEncoding>();
  for (const field of record.data.fields) {
    const encoding = encodingOfType(field.type);
    if (encoding !== undefined) encodings.set(field.name, encoding);
  }
  return encodings;
}
