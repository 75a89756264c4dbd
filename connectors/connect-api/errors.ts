// Errors of the Connect REST client: each names the connector, the request, the status and Connect's message.

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

export class ConnectApiError extends Error {
  readonly connector: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly connectMessage: string;
  readonly attempts: number;

  constructor(details: ConnectApiErrorDetails) {
    const outcome = details.status === undefined ? "failed" : `failed with HTTP ${details.status}`;
    const tries = details.attempts === 1 ? "1 attempt" : `${details.attempts} attempts`;
    super(
      `Kafka Connect connector "${details.connector}": ${details.method} ${details.path} ${outcome}` +
        ` after ${tries}: ${details.message}`,
    );
    this.name = "ConnectApiError";
    this.connector = details.connector;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.connectMessage = details.message;
    this.attempts = details.attempts;
  }
}

/** An operation on a connector that failed for a reason other than one HTTP request (state, timeout, adoption). */
export class ConnectorError extends Error {
  constructor(
    readonly connector: string,
    detail: string,
  ) {
    super(`Kafka Connect connector "${connector}": ${detail}`);
    this.name = "ConnectorError";
  }
}
