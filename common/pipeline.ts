/**
 * The facts every part of the pipeline shares: how topics are named, which tables are captured by
 * default, and where the S3 sink puts the change files. The connector builders, the infrastructure,
 * the local runtime and the SCD2 job all import them from here, so the topic Debezium writes is the
 * topic the sink reads and the prefix the job lists.
 */

/** Debezium `topic.prefix` by default: topics are `<prefix>.<schema>.<table>`. */
export const DEFAULT_TOPIC_PREFIX = "cdc";

/** The tables captured by default, `schema.table`. */
export const DEFAULT_TABLES: readonly string[] = ["commerce.products", "commerce.users"];

/** The S3 sink's `topics.dir` by default: the prefix of the change files in the bucket. */
export const DEFAULT_TOPICS_DIR = "cdc_data";

/** The topic Debezium writes a table's changes to: `<topicPrefix>.<schema>.<table>`. */
export function topicForTable(topicPrefix: string, table: string): string {
  return `${topicPrefix}.${table}`;
}
