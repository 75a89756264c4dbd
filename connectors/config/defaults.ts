/**
 * The pipeline's names, defined once. The connector builders, the source database setup
 * (connectors/database) and the infrastructure all read them from here, so the slot the
 * stack creates is the slot the connector streams, and so on.
 */
export const PIPELINE_DEFAULTS = {
  /** Debezium `topic.prefix`: topics are `<prefix>.<schema>.<table>`. */
  topicPrefix: "cdc",
  /** The captured tables, `schema.table`. */
  tables: ["commerce.products", "commerce.users"] as readonly string[],
  /** The schema that holds the captured tables and the heartbeat table. */
  schema: "commerce",
  /** Logical replication slot (pgoutput) the source connector streams. */
  slotName: "cdc_slot",
  /** Publication that lists the captured tables and the heartbeat table. */
  publicationName: "cdc_publication",
  /** Table the connector writes to on every heartbeat so an idle database still moves the slot. */
  heartbeatTable: "commerce.cdc_heartbeat",
  /** Heartbeat period (`heartbeat.interval.ms`). */
  heartbeatIntervalMs: 10_000,
  /** The login role the source connector uses. */
  cdcRole: "cdc_connector",
  /** S3 sink `topics.dir`: the top-level prefix of the change files in the bucket. */
  topicsDir: "cdc_data",
  /** S3 sink `flush.size`: records per file. */
  flushSize: 1000,
  /** Connector names. */
  sourceConnectorName: "cdc-postgres-source",
  sinkConnectorName: "cdc-s3-sink",
} as const;

/** Topic Debezium writes a table's changes to: `<topicPrefix>.<schema>.<table>`. */
export function topicForTable(topicPrefix: string, table: string): string {
  return `${topicPrefix}.${table}`;
}
