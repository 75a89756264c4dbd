import { z } from "zod";

/**
 * How records are serialized in Kafka. ParquetFormat needs records with a Connect schema, so the
 * choices are JsonConverter with embedded schemas (no registry; larger messages) or Avro with a
 * schema registry. The source and the sink must use the same converters: both builders take this.
 */
export const converterSettingsSchema = z.discriminatedUnion("format", [
  z.strictObject({ format: z.literal("json") }),
  z.strictObject({
    format: z.literal("avro"),
    /** Schema registry URL, e.g. `http://schema-registry:8081`. */
    schemaRegistryUrl: z.url({
      protocol: /^https?$/,
      error: "must be an http(s) URL of the schema registry",
    }),
  }),
]);

export type ConverterSettings = z.output<typeof converterSettingsSchema>;

export const DEFAULT_CONVERTER: ConverterSettings = { format: "json" };

export const JSON_CONVERTER_CLASS = "org.apache.kafka.connect.json.JsonConverter";
export const AVRO_CONVERTER_CLASS = "io.confluent.connect.avro.AvroConverter";

/** The `key.converter*` and `value.converter*` entries for a connector. */
export function converterConfig(settings: ConverterSettings): Record<string, string> {
  const config: Record<string, string> = {};
  for (const side of ["key", "value"] as const) {
    if (settings.format === "json") {
      config[`${side}.converter`] = JSON_CONVERTER_CLASS;
      config[`${side}.converter.schemas.enable`] = "true";
    } else {
      config[`${side}.converter`] = AVRO_CONVERTER_CLASS;
      config[`${side}.converter.schema.registry.url`] = settings.schemaRegistryUrl;
    }
  }
  return config;
}
