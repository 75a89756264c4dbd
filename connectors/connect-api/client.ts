// A small Kafka Connect REST client (data-contract.md §5). It is created inside each provider method, never
// at module load: the provider is serialized into the Pulumi state, and a captured axios instance cannot be.
import type { AxiosStatic } from "axios";
import type * as https from "node:https";
import { connectApiError, connectorError } from "./errors";
import { nextRetryDelay, type RequestFailure, type RetryPolicy } from "./retry";
import type { ConfigValidation, ConnectorAuth, ConnectorInfo, ConnectorStatus, TaskConfig } from "./types";

export const DEFAULT_PASSWORD_ENV_VAR = "KAFKA_CONNECT_PASSWORD";

export interface ConnectClientOptions {
  connectUrl: string;
  /** The connector every request is about; it names the URL paths and every error. */
  connector: string;
  auth?: ConnectorAuth;
  /** PEM of the CA that signed the Connect REST certificate, for an internal CA. */
  tlsCa?: string;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  /** Injected by tests; default setTimeout, Math.random, Date.now, process.env. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  env?: Record<string, string | undefined>;
}

export interface ConnectClient {
  /** `GET /connectors/{name}/config`; undefined when the connector does not exist. */
  getConfig(): Promise<Record<string, string> | undefined>;
  /** `GET /connectors/{name}/status`; undefined when the connector does not exist (or is not assigned yet). */
  getStatus(): Promise<ConnectorStatus | undefined>;
  /** `GET /connectors/{name}/tasks`: the task configs; undefined when the connector does not exist. */
  getTaskConfigs(): Promise<TaskConfig[] | undefined>;
  /**
   * `PUT /connector-plugins/{connector.class}/config/validate` with the config and the connector's `name`
   * (Connect validates `name` as a required key; `PUT …/config` takes it from the URL). Applies nothing.
   * Same retry policy as every request; a 4xx (an unknown plugin: 404, or 400) throws at once.
   */
  validateConfig(config: Record<string, string>): Promise<ConfigValidation>;
  /** `PUT /connectors/{name}/config`: 201 created, 200 updated. */
  putConfig(config: Record<string, string>): Promise<{ created: boolean; info: ConnectorInfo }>;
  /** `DELETE /connectors/{name}`; false when it did not exist. */
  deleteConnector(): Promise<boolean>;
  /** `PUT /connectors/{name}/stop`; false when it did not exist. */
  stop(): Promise<boolean>;
  /** `DELETE /connectors/{name}/offsets` (the connector must be STOPPED); false when it did not exist. */
  deleteOffsets(): Promise<boolean>;
}

interface Reply<T> {
  status: number;
  data: T;
}

export function createConnectClient(options: ConnectClientOptions): ConnectClient {
  // Loaded here, not at module top level: see the comment at the top of this file.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const axios = require("axios") as AxiosStatic;
  const { connector, retry } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const http = axios.create({
    baseURL: options.connectUrl.replace(/\/+$/, ""),
    timeout: options.requestTimeoutMs,
    headers: { Accept: "application/json" },
    auth: basicAuth(connector, options.auth, options.env ?? process.env),
    httpsAgent: options.tlsCa === undefined ? undefined : httpsAgentTrusting(options.tlsCa),
    // Every status is an answer to interpret here, not an exception thrown by axios.
    validateStatus: () => true,
  });
  const base = `/connectors/${encodeURIComponent(connector)}`;

  async function send<T>(method: string, path: string, body?: unknown, allow404 = false) {
    const started = now();
    for (let attempts = 1; ; attempts++) {
      let failure: RequestFailure;
      let message: string;
      try {
        const res = await http.request<T>({ method, url: path, data: body });
        if (res.status < 300) return { status: res.status, data: res.data } as Reply<T>;
        if (res.status === 404 && allow404) return undefined;
        message = connectMessage(res.data, res.statusText);
        failure = { status: res.status, message };
      } catch (err) {
        const code = (axios.isAxiosError(err) ? err.code : undefined) ?? "EUNKNOWN";
        failure = { code };
        message = `${err instanceof Error ? err.message : String(err)} (${code})`;
      }
      const delay = nextRetryDelay(failure, attempts, now() - started, retry, random);
      if (delay === undefined) {
        const status = "status" in failure ? failure.status : undefined;
        throw connectApiError({ connector, method, path, status, message, attempts });
      }
      await sleep(delay);
    }
  }

  return {
    async getConfig() {
      return (await send<Record<string, string>>("GET", `${base}/config`, undefined, true))?.data;
    },
    async getStatus() {
      return (await send<ConnectorStatus>("GET", `${base}/status`, undefined, true))?.data;
    },
    async getTaskConfigs() {
      return (await send<TaskConfig[]>("GET", `${base}/tasks`, undefined, true))?.data;
    },
    async validateConfig(config) {
      const plugin = encodeURIComponent(config["connector.class"] ?? "");
      const reply = await send<ConfigValidation>("PUT", `/connector-plugins/${plugin}/config/validate`, {
        name: connector,
        ...config,
      });
      return reply!.data;
    },
    async putConfig(config) {
      const reply = await send<ConnectorInfo>("PUT", `${base}/config`, config);
      return { created: reply?.status === 201, info: reply!.data };
    },
    async deleteConnector() {
      return (await send("DELETE", base, undefined, true)) !== undefined;
    },
    async stop() {
      return (await send("PUT", `${base}/stop`, undefined, true)) !== undefined;
    },
    async deleteOffsets() {
      return (await send("DELETE", `${base}/offsets`, undefined, true)) !== undefined;
    },
  };
}

/** Connect answers errors as `{ error_code, message }`; a proxy in between may answer text or HTML. */
export function connectMessage(body: unknown, statusText: string): string {
  if (body && typeof body === "object" && "message" in body && typeof body.message === "string") {
    return body.message;
  }
  if (typeof body === "string" && body.trim() !== "") return body.trim().slice(0, 500);
  return statusText || "(no message)";
}

function basicAuth(
  connector: string,
  auth: ConnectorAuth | undefined,
  env: Record<string, string | undefined>,
) {
  if (auth === undefined) return undefined;
  const variable = auth.passwordEnvVar ?? DEFAULT_PASSWORD_ENV_VAR;
  const password = env[variable];
  if (password === undefined || password === "") {
    throw connectorError(
      connector,
      `basic auth for user "${auth.username}" needs the password in the environment variable ${variable}, which is not set`,
    );
  }
  return { username: auth.username, password };
}

function httpsAgentTrusting(ca: string): https.Agent {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Agent } = require("node:https") as typeof https;
  return new Agent({ ca });
}
