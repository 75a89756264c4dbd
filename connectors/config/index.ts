export type { ConnectorConfig } from "./types";
export { PIPELINE_DEFAULTS, topicForTable } from "./defaults";
export {
  ConnectorSettingsError,
  KAFKA_VARIABLE_PATTERN,
  parseConfigPlaceholder,
  placeholderSplitProblem,
  type ConfigPlaceholder,
} from "./validation";
export { JSON_CONVERTER_CLASS } from "./converters";
export { executeSnapshotSignal } from "./signal";
export {
  buildSourceConnector,
  heartbeatActionQuery,
  INCREMENTAL_SNAPSHOT_CHUNK_SIZE,
  WATERMARKING_STRATEGY,
  sourceSettingsSchema,
  DEBEZIUM_POSTGRES_CONNECTOR_CLASS,
  EXTRACT_NEW_RECORD_STATE_CLASS,
  UNWRAP_ADD_FIELDS,
  type SourceSettings,
  type SourceSettingsInput,
} from "./source";
export {
  buildSinkConnector,
  sinkSettingsSchema,
  S3_SINK_CONNECTOR_CLASS,
  S3_STORAGE_CLASS,
  PARQUET_FORMAT_CLASS,
  JSON_FORMAT_CLASS,
  DEFAULT_PARTITIONER_CLASS,
  type SinkSettings,
  type SinkSettingsInput,
} from "./sink";
