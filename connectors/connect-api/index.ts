// Kafka Connect connectors as Pulumi dynamic resources, over the Connect REST API.
export { KafkaConnector, CONNECTOR_PROVIDER_VERSION, type KafkaConnectorArgs } from "./resource";
export { connectorProvider, DEFAULT_TIMEOUTS } from "./provider";
export {
  createConnectClient,
  DEFAULT_PASSWORD_ENV_VAR,
  type ConnectClient,
  type ConnectClientOptions,
} from "./client";
export {
  DEFAULT_RETRY_POLICY,
  backoffDelayMs,
  isRetryable,
  nextRetryDelay,
  type RetryPolicy,
  type RequestFailure,
} from "./retry";
export {
  assessStatus,
  staleTaskConfigs,
  waitForState,
  type ConfigChange,
  type StatusAssessment,
  type WaitOptions,
  type WaitTarget,
} from "./wait";
export {
  checkConnectorInputs,
  isSensitiveKey,
  isPlaceholder,
  placeholderProblem,
  plaintextSecretReason,
} from "./check";
export { diffConnector, diffConfigKeys, type ConnectorDiff } from "./diff";
export {
  isConnectApiError,
  type ConnectApiError,
  type ConnectorConfigError,
  type ConfigKeyErrors,
} from "./errors";
export {
  HIDDEN,
  hideSecrets,
  rejectedKeys,
  secretValues,
  unknownPluginMessage,
  validateBeforeApply,
} from "./validate";
export type * from "./types";
