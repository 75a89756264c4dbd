/** JSON files as the S3 sink's JsonFormat writes them: one value per line, JsonConverter without schemas. */
import { writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import {
  decimalToJavaString,
  isDecimal,
  twosComplementBytes,
  type ConnectSchema,
  type ConnectValue,
} from "./connect-schema";
import { jacksonString, javaDoubleString } from "./java-compat";

/**
 * JsonConverter's value encoding (Jackson): bytes and BASE64 decimals as base64, NUMERIC decimals
 * as numbers, FLOAT32/FLOAT64 as Java prints doubles (`2.0`, `1.0E7`; NaN and infinities as strings),
 * a null in a field with a default as the default (`replace.null.with.default`).
 */
function jsonValue(value: ConnectValue, schema: ConnectSchema | undefined, numeric: boolean): string {
  if (value === null)
    return schema?.defaultValue === undefined ? "null" : jsonValue(schema.defaultValue, schema, numeric);
  if (typeof value === "string") return jacksonString(value);
  if (typeof value === "number" && (schema?.type === "FLOAT64" || schema?.type === "FLOAT32")) {
    const text = javaDoubleString(value);
    return Number.isFinite(value) ? text : jacksonString(text);
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object") return JSON.stringify(value);
  if (Buffer.isBuffer(value)) return jacksonString(value.toString("base64"));
  if (isDecimal(value)) {
    return numeric
      ? decimalToJavaString(value)
      : jacksonString(twosComplementBytes(value.unscaled).toString("base64"));
  }
  if (Array.isArray(value))
    return `[${value.map((v) => jsonValue(v, schema?.valueSchema, numeric)).join(",")}]`;
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  const fieldSchema = (k: string): ConnectSchema | undefined =>
    value instanceof Map ? schema?.valueSchema : schema?.fields?.find((f) => f.name === k)?.schema;
  const parts = entries.map(([k, v]) => `${jacksonString(k)}:${jsonValue(v, fieldSchema(k), numeric)}`);
  return `{${parts.join(",")}}`;
}

/** One line of a JsonFormat file: the value as JsonConverter (schemas.enable=false) writes it. */
export function jsonFormatLine(
  value: Record<string, ConnectValue> | null,
  schema: ConnectSchema,
  decimalFormat: "BASE64" | "NUMERIC",
): string {
  return jsonValue(value, schema, decimalFormat === "NUMERIC");
}

export async function writeJsonFile(
  target: string,
  schema: ConnectSchema,
  rows: (Record<string, ConnectValue> | null)[],
  decimalFormat: "BASE64" | "NUMERIC",
  gzip: boolean,
): Promise<void> {
  const text = rows.map((row) => `${jsonFormatLine(row, schema, decimalFormat)}\n`).join("");
  await writeFile(target, gzip ? gzipSync(text) : text);
}
