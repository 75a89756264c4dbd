/**
 * The pipeline's names, defined once. The connector builders, the source database setup
 * (connectors/database) and the infrastructure all read them from here, so the slot the
 * stack creates is the slot the connector streams, and so on. The names the SCD2 job shares
 * (topics, tables, the change-file prefix) come from common/pipeline.ts, which it imports too.
 */
import { DEFAULT_TABLES, DEFAULT_TOPIC_PREFIX, DEFAULT_TOPICS_DIR } from "../../common/pipeline";

export { topicForTable } from "../../common/pipeline";

export const PIPELINE_DEFAULTS = {
  /** Debezium `topic.prefix`: topics are `<prefix>.<schema>.<table>`. */
  topicPrefix: DEFAULT_TOPIC_PREFIX,
  /** The captured tables, `schema.table`. */
  tables: DEFAULT_TABLES,
  /** The schema that holds the captured tables and the heartbeat table. */
  schema: "commerce",
  /** Logical replication slot (pgoutput) the source connector streams. */
  slotName: "cdc_slot",
  /** Publication that lists the captured tables and the heartbeat table. */
  publicationName: "cdc_publication",
  /** Table the connector writes to on every heartbeat so an idle database still moves the slot. */
  heartbeatTable: "commerce.cdc_heartbeat",
  /**
   * Debezium's signalling table (`signal.data.collection`): `execute-snapshot` requests and the
   * incremental snapshot's watermarks are rows of it, read back through the publication.
   */
  signalTable: "commerce.cdc_signal",
  /** Heartbeat period (`heartbeat.interval.ms`). */
  heartbeatIntervalMs: 10_000,
  /** The login role the source connector uses. */
  cdcRole: "cdc_connector",
  /** S3 sink `topics.dir`: the top-level prefix of the change files in the bucket. */
  topicsDir: DEFAULT_TOPICS_DIR,
  /** S3 sink `flush.size`: records per file. */
  flushSize: 1000,
  /** Connector names. */
  sourceConnectorName: "cdc-postgres-source",
  sinkConnectorName: "cdc-s3-sink",
} as const;
