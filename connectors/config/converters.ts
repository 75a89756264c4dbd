/**
 * How records are serialized in Kafka: JsonConverter with embedded schemas. The S3 sink's
 * ParquetFormat needs records that carry a Connect schema, and without a schema registry (the stack
 * runs none) embedded JSON schemas are the way to give it one. Source and sink use the same.
 */
export const JSON_CONVERTER_CLASS = "org.apache.kafka.connect.json.JsonConverter";

/** The `key.converter*` and `value.converter*` entries for a connector. */
export function converterConfig(): Record<string, string> {
  const config: Record<string, string> = {};
  for (const side of ["key", "value"] as const) {
    config[`${side}.converter`] = JSON_CONVERTER_CLASS;
    config[`${side}.converter.schemas.enable`] = "true";
  }
  return config;
}
