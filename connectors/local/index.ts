export {
  startConnectorRuntime,
  type ConnectorRuntime,
  type ConnectorRuntimeOptions,
  type RuntimeStats,
} from "./runtime";
export { ConnectorConfigError, type ConnectorInput } from "./connector-input";
export type { UnwrappedRecord } from "./unwrap";
export type { ConnectSchema, ConnectValue } from "./connect-schema";
export { ConfigProviderError } from "./placeholders";
export { parseSourceConfig, SOURCE_NO_EFFECT_KEYS, type SourceSettings } from "./source-config";
export { parseSinkConfig, SINK_NO_EFFECT_KEYS, fileExtension, type SinkSettings } from "./sink-config";
