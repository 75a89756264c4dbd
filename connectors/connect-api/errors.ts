// Errors of the Connect REST client and the provider: each names the connector, and for a request, the
// method, path, status and Connect's message. Plain Errors built by functions, not Error subclasses: the
// provider is serialized into the state, and a serialized subclass of Error loses its message.

export interface ConnectApiErrorDetails {
  connector: string;
  method: string;
  path: string;
  /** HTTP status, absent when no response came back (timeout, connection refused). */
  status?: number;
  /** Connect's `message`, or the transport error's message. */
  message: string;
  attempts: number;
}

/** A request to the Connect REST API that failed for good. */
export interface ConnectApiError extends Error {
  name: "ConnectApiError";
  connector: string;
  method: string;
  path: string;
  status: number | undefined;
  connectMessage: string;
  attempts: number;
}

export function connectApiError(details: ConnectApiErrorDetails): ConnectApiError {
  const outcome = details.status === undefined ? "failed" : `failed with HTTP ${details.status}`;
  const tries = details.attempts === 1 ? "1 attempt" : `${details.attempts} attempts`;
  const error = new Error(
    `Kafka Connect connector "${details.connector}": ${details.method} ${details.path} ${outcome}` +
      ` after ${tries}: ${details.message}`,
  );
  return Object.assign(error, {
    name: "ConnectApiError" as const,
    connector: details.connector,
    method: details.method,
    path: details.path,
    status: details.status,
    connectMessage: details.message,
    attempts: details.attempts,
  });
}

export function isConnectApiError(error: unknown): error is ConnectApiError {
  return error instanceof Error && error.name === "ConnectApiError";
}

/** An operation on a connector that failed for a reason other than one request (state, timeout, adoption). */
export function connectorError(connector: string, detail: string): Error {
  return Object.assign(new Error(`Kafka Connect connector "${connector}": ${detail}`), {
    name: "ConnectorError",
  });
}

/** One config key Connect's validate endpoint rejected, with its messages (secret values hidden). */
export interface ConfigKeyErrors {
  key: string;
  messages: string[];
}

/** A config Connect's validate endpoint rejected, before anything was applied. */
export interface ConnectorConfigError extends Error {
  name: "ConnectorConfigError";
  connector: string;
  configErrors: ConfigKeyErrors[];
}

export function connectorConfigError(
  connector: string,
  detail: string,
  configErrors: ConfigKeyErrors[],
): ConnectorConfigError {
  return Object.assign(new Error(`Kafka Connect connector "${connector}": ${detail}`), {
    name: "ConnectorConfigError" as const,
    connector,
    configErrors,
  });
}
