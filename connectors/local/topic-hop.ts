/**
 * A record as the sink task reads it back from the topic. With JsonConverter (schemas enabled) the trip
 * changes two things, as Kafka's JsonConverter does: a null in a field that has a default is written as the
 * default (`replace.null.with.default`), and NaN or an infinity, written as the strings Jackson writes for
 * them, is read back as 0.0 (a text node's `doubleValue()`). Everything else comes back as it went in.
 * Other converters are left alone (the runtime has no Avro round trip to hold them to).
 */
import type { ConnectSchema, ConnectValue } from "./connect-schema";
import type { UnwrappedRecord } from "./unwrap";

type Rewrite = (value: ConnectValue) => ConnectValue;

/** The rewrite a value of `schema` needs on the trip, or undefined when it comes back unchanged. */
function rewriteFor(schema: ConnectSchema): Rewrite | undefined {
  let inner: Rewrite | undefined;
  if (schema.type === "FLOAT32" || schema.type === "FLOAT64") {
    inner = (v) => (typeof v === "number" && !Number.isFinite(v) ? 0 : v);
  } else if (schema.type === "ARRAY") {
    const element = rewriteFor(schema.valueSchema!);
    if (element) inner = (v) => (Array.isArray(v) ? v.map(element) : v);
  } else if (schema.type === "MAP") {
    const entry = rewriteFor(schema.valueSchema!);
    if (entry) inner = (v) => (v instanceof Map ? new Map([...v].map(([k, e]) => [k, entry(e)])) : v);
  } else if (schema.type === "STRUCT") {
    const fields = schema.fields!.flatMap((f) => {
      const rewrite = rewriteFor(f.schema);
      return rewrite ? [{ name: f.name, rewrite }] : [];
    });
    if (fields.length > 0) {
      inner = (v) => {
        if (v === null || typeof v !== "object") return v;
        const struct = { ...(v as Record<string, ConnectValue>) };
        for (const { name, rewrite } of fields) struct[name] = rewrite(struct[name] ?? null);
        return struct;
      };
    }
  }
  const fallback = schema.defaultValue;
  if (fallback === undefined) return inner;
  return inner ? (v) => (v === null ? fallback : inner(v)) : (v) => v ?? fallback;
}

/** Rewrites records of JSON topics; compiled once per value schema. */
export class TopicHop {
  private readonly rewrites = new WeakMap<ConnectSchema, Rewrite | null>();

  constructor(private readonly jsonConverter: boolean) {}

  apply(record: UnwrappedRecord): UnwrappedRecord {
    if (!this.jsonConverter || record.value === null) return record;
    let rewrite = this.rewrites.get(record.schema);
    if (rewrite === undefined) {
      rewrite = rewriteFor(record.schema) ?? null;
      this.rewrites.set(record.schema, rewrite);
    }
    if (rewrite === null) return record;
    return { ...record, value: rewrite(record.value) as Record<string, ConnectValue> };
  }
}
