/**
 * Debezium's heartbeat records: `{ts_ms}` (processing time) on `<topic.heartbeat.prefix>.<topic.prefix>`.
 * They are not change envelopes, so the unwrap SMT passes them through unchanged; the S3 sink
 * writes them only if its `topics`/`topics.regex` names the heartbeat topic.
 */
import type { ConnectSchema } from "./connect-schema";
import type { UnwrappedRecord } from "./unwrap";

/** SchemaFactory.heartbeatValueSchema. */
export const HEARTBEAT_SCHEMA: ConnectSchema = {
  type: "STRUCT",
  optional: false,
  name: "io.debezium.connector.common.Heartbeat",
  version: 1,
  fields: [{ name: "ts_ms", schema: { type: "INT64", optional: false } }],
};

export function heartbeatRecord(topic: string, nowMs: number): UnwrappedRecord {
  return { topic, schema: HEARTBEAT_SCHEMA, value: { ts_ms: nowMs } };
}
