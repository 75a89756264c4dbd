/** JSON files as the S3 sink's JsonFormat writes them: one value per line, JsonConverter without schemas. */
import { writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { decimalToJavaString, isDecimal, twosComplementBytes, type ConnectValue } from "./connect-schema";

/** JsonConverter's value encoding: bytes and BASE64 decimals as base64, NUMERIC decimals as numbers. */
function jsonValue(value: ConnectValue, numeric: boolean): string {
  if (value === null) return "null";
  if (typeof value !== "object") return JSON.stringify(value);
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString("base64"));
  if (isDecimal(value)) {
    return numeric
      ? decimalToJavaString(value)
      : JSON.stringify(twosComplementBytes(value.unscaled).toString("base64"));
  }
  if (Array.isArray(value)) return `[${value.map((v) => jsonValue(v, numeric)).join(",")}]`;
  const parts = (value instanceof Map ? [...value] : Object.entries(value)).map(
    ([k, v]) => `${JSON.stringify(k)}:${jsonValue(v, numeric)}`,
  );
  return `{${parts.join(",")}}`;
}

export async function writeJsonFile(
  target: string,
  rows: (Record<string, ConnectValue> | null)[],
  decimalFormat: "BASE64" | "NUMERIC",
  gzip: boolean,
): Promise<void> {
  const text = rows.map((row) => `${jsonValue(row, decimalFormat === "NUMERIC")}\n`).join("");
  await writeFile(target, gzip ? gzipSync(text) : text);
}
