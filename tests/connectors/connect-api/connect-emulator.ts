// An in-process Kafka Connect REST API (cdc-contract.md §5) on a real socket, with the failures a manager
// must survive: rebalance 409s, 5xx, slow answers, tasks that take time to start or fail with a trace,
// and a config update that restarts the tasks asynchronously (the old tasks keep reporting their states,
// and the task configs stay the old ones, until the restart). Every request is logged so tests can assert
// the exact calls made. `PUT /connector-plugins/{class}/config/validate` validates as Connect does: per-key
// errors (a missing required key, `name` included; a value outside a key's allowed strings) after resolving
// config-provider placeholders, 400 when the body has no or another `connector.class`, and 404 (or 500, as
// older workers answer) for a plugin class no worker has.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";

type State = "UNASSIGNED" | "RUNNING" | "PAUSED" | "FAILED" | "RESTARTING" | "STOPPED";

export interface PluginSpec {
  type: "source" | "sink";
  /** Keys the plugin requires; a missing one is a validation error. */
  required: string[];
  /**
   * Keys with a fixed set of allowed values (Kafka's `ConfigDef.ValidString`): any other value is a
   * validation error that quotes the value, as Kafka's `ConfigException` does (it hides only PASSWORD-typed
   * values, so a connector-defined string key shows what it got).
   */
  oneOf?: Record<string, string[]>;
}

/**
 * How a connector behaves once (re)configured or resumed. Each start (create, restart after a config
 * update, resume, POST restart) takes the behaviour set at that moment; a running start keeps its own.
 */
export interface ConnectorBehaviour {
  /** Time before the tasks are RUNNING: the first half the connector is UNASSIGNED with no task. Default 0. */
  startupMs?: number;
  /** This task goes FAILED with this trace once started. */
  failTask?: { id: number; trace: string };
  /**
   * After a `PUT .../config` that updates the connector, the time before Connect restarts it with the new
   * config. Until then `GET .../status` reports the old tasks (RUNNING, or however they were) and
   * `GET .../tasks` the old task configs; `GET .../config` returns the new config at once. Default 0.
   */
  restartDelayMs?: number;
}

export interface Fault {
  /** How many matching requests it applies to. */
  count: number;
  /** Which requests; default every request. */
  method?: string;
  pathSuffix?: string;
  /** Answer with this status and Connect error message instead of handling the request. */
  status?: number;
  message?: string;
  /** Handle the request, then hold the answer this long: a slow worker that did the work anyway. */
  delayMs?: number;
}

export interface LoggedCall {
  method: string;
  path: string;
  status?: number;
}

/** One start of the connector and its tasks: the config they run, when, and how they behave. */
interface Generation {
  config: Record<string, string>;
  startedAt: number;
  behaviour: ConnectorBehaviour;
}

interface Connector {
  /** The latest config submitted (what `GET .../config` returns). */
  config: Record<string, string>;
  target: "RUNNING" | "PAUSED" | "STOPPED";
  /** What the connector and its tasks run now (what `GET .../status` and `GET .../tasks` report). */
  running: Generation;
  /** A config update not applied yet: the connector restarts with it at `restartAt`. */
  pending?: { config: Record<string, string>; restartAt: number; behaviour: ConnectorBehaviour };
}

export const DEFAULT_PLUGINS: Record<string, PluginSpec> = {
  "io.debezium.connector.postgresql.PostgresConnector": {
    type: "source",
    required: ["topic.prefix", "database.hostname"],
    oneOf: {
      "plugin.name": ["decoderbufs", "pgoutput"],
      "snapshot.mode": [
        "always",
        "initial",
        "initial_only",
        "no_data",
        "when_needed",
        "configuration_based",
        "custom",
        "recovery",
      ],
    },
  },
  "io.confluent.connect.s3.S3SinkConnector": { type: "sink", required: ["topics", "s3.bucket.name"] },
  "org.apache.kafka.connect.file.FileStreamSourceConnector": { type: "source", required: ["topic"] },
  "org.apache.kafka.connect.file.FileStreamSinkConnector": { type: "sink", required: ["topics"] },
};

const REBALANCE_MESSAGE = "Request cannot be completed because a rebalance is expected";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ConnectEmulator {
  readonly calls: LoggedCall[] = [];
  readonly workers = ["10.0.1.10:8083", "10.0.2.20:8083"];
  private readonly connectors = new Map<string, Connector>();
  private readonly behaviours = new Map<string, ConnectorBehaviour>();
  /** Offsets by connector name; like Connect's offsets topic they survive a delete. */
  private readonly offsets = new Map<string, Array<{ partition: object; offset: object }>>();
  private faults: Fault[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly plugins: Record<string, PluginSpec>,
    private readonly basicAuth: { username: string; password: string } | undefined,
    private readonly now: () => number,
    private readonly secrets: Record<string, string>,
    private readonly unknownPluginStatus: 404 | 500,
  ) {}

  static async start(
    options: {
      plugins?: Record<string, PluginSpec>;
      basicAuth?: { username: string; password: string };
      /** Serve https with this key and certificate. */
      tls?: { key: string; cert: string };
      /** The clock task start-up is measured with; tests may drive it by hand. Default Date.now. */
      now?: () => number;
      /**
       * What the workers' config providers resolve, by placeholder: validation (validate and `PUT …/config`)
       * sees the resolved values, as Connect's does; `GET` still returns the placeholders.
       */
      secrets?: Record<string, string>;
      /** How validate answers a plugin class no worker has: 404 (default), or 500 as older workers do. */
      unknownPluginStatus?: 404 | 500;
    } = {},
  ) {
    const server = options.tls ? createTlsServer(options.tls) : createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const emulator = new ConnectEmulator(
      server,
      `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
      options.plugins ?? DEFAULT_PLUGINS,
      options.basicAuth,
      options.now ?? Date.now,
      options.secrets ?? {},
      options.unknownPluginStatus ?? 404,
    );
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void emulator.handle(req, res));
    return emulator;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  /** Queue a fault for the next matching requests. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** The next `count` requests answer 409, as during a worker rebalance. */
  rebalance(count: number): void {
    this.inject({ count, status: 409, message: REBALANCE_MESSAGE });
  }

  behave(name: string, behaviour: ConnectorBehaviour): void {
    this.behaviours.set(name, behaviour);
  }

  /** Calls as `METHOD path`, for exact sequence assertions. */
  callLines(): string[] {
    return this.calls.map((call) => `${call.method} ${call.path}`);
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  /** Back to an empty cluster: no connectors, offsets, behaviours, faults or logged calls. */
  reset(): void {
    this.resetCalls();
    this.connectors.clear();
    this.behaviours.clear();
    this.offsets.clear();
    this.faults = [];
  }

  configOf(name: string): Record<string, string> | undefined {
    const connector = this.connectors.get(name);
    return connector && { ...connector.config };
  }

  /** An operator editing the config by hand (out of band); the running tasks take it at once. */
  editConfig(name: string, patch: Record<string, string | undefined>): void {
    const connector = this.mustGet(name);
    for (const config of [connector.config, connector.running.config]) {
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) delete config[key];
        else config[key] = value;
      }
    }
  }

  /** An operator deleting the connector by hand (out of band). */
  removeConnector(name: string): void {
    this.connectors.delete(name);
  }

  setOffsets(name: string, offsets: Array<{ partition: object; offset: object }>): void {
    this.offsets.set(name, offsets);
  }

  offsetsOf(name: string): Array<{ partition: object; offset: object }> {
    return this.offsets.get(name) ?? [];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", this.url);
    const call: LoggedCall = { method, path: url.pathname };
    this.calls.push(call);
    const body = await readBody(req);
    const fault = this.takeFault(method, url.pathname);
    let status: number;
    let payload: unknown;
    try {
      if (fault?.status) throw new HttpError(fault.status, fault.message ?? "Injected failure");
      this.authenticate(req);
      [status, payload] = this.route(method, url, body);
    } catch (err) {
      status = err instanceof HttpError ? err.status : 500;
      payload = { error_code: status, message: err instanceof Error ? err.message : String(err) };
    }
    call.status = status;
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (res.destroyed) return;
    res.writeHead(status, payload === undefined ? {} : { "Content-Type": "application/json" });
    res.end(payload === undefined ? undefined : JSON.stringify(payload));
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.count > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.pathSuffix === undefined || path.endsWith(f.pathSuffix)),
    );
    if (fault) fault.count -= 1;
    this.faults = this.faults.filter((f) => f.count > 0);
    return fault;
  }

  private authenticate(req: IncomingMessage): void {
    if (!this.basicAuth) return;
    const expected = Buffer.from(`${this.basicAuth.username}:${this.basicAuth.password}`).toString("base64");
    if (req.headers.authorization !== `Basic ${expected}`)
      throw new HttpError(401, "Credentials are not valid");
  }

  private route(method: string, url: URL, body: unknown): [number, unknown] {
    const parts = url.pathname
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    if (
      parts[0] === "connector-plugins" &&
      parts[2] === "config" &&
      parts[3] === "validate" &&
      method === "PUT"
    ) {
      return [200, this.validate(parts[1]!, asConfig(body))];
    }
    if (parts[0] === "connector-plugins" && parts.length === 1 && method === "GET") {
      return [200, Object.entries(this.plugins).map(([name, spec]) => ({ class: name, type: spec.type }))];
    }
    if (parts[0] !== "connectors") throw new HttpError(404, "HTTP 404 Not Found");
    if (parts.length === 1 && method === "GET") return [200, [...this.connectors.keys()].sort()];
    const name = parts[1]!;
    const action = parts.slice(2).join("/");
    if (action === "config" && method === "PUT") return this.putConfig(name, asConfig(body));
    const connector = this.mustGet(name);
    this.settle(connector);
    switch (`${method} ${action}`) {
      case "GET ":
        return [200, this.info(name, connector)];
      case "GET config":
        return [200, { ...connector.config }];
      case "GET status":
        return [200, this.status(name, connector)];
      case "GET tasks":
        return [200, this.taskConfigs(name, connector)];
      case "DELETE ":
        this.connectors.delete(name);
        return [204, undefined];
      case "PUT pause":
      case "PUT resume":
      case "PUT stop":
        connector.target = action === "pause" ? "PAUSED" : action === "stop" ? "STOPPED" : "RUNNING";
        if (action === "resume") this.restart(name, connector);
        return [202, undefined];
      case "POST restart":
        this.restart(name, connector);
        return [204, undefined];
      case "GET offsets":
        return [200, { offsets: this.offsetsOf(name) }];
      case "DELETE offsets":
        if (connector.target !== "STOPPED") {
          throw new HttpError(
            400,
            "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the " +
              `specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`,
          );
        }
        this.offsets.delete(name);
        return [
          200,
          {
            message: "The Connect framework-managed offsets for this connector have been reset successfully.",
          },
        ];
      default:
        throw new HttpError(405, "HTTP 405 Method Not Allowed");
    }
  }

  private putConfig(name: string, config: Record<string, string>): [number, unknown] {
    if (config["name"] !== undefined && config["name"] !== name) {
      throw new HttpError(
        400,
        `Connector name configuration (${config["name"]}) doesn't match connector name in the URL (${name})`,
      );
    }
    const connectorClass = config["connector.class"];
    if (connectorClass === undefined) {
      throw new HttpError(400, `Connector config ${JSON.stringify(config)} contains no connector type`);
    }
    const spec = this.plugins[connectorClass];
    const errors = spec
      ? Object.values(keyErrors(spec, this.resolve({ ...config, name }))).flat()
      : [unknownPluginMessage(connectorClass, this.plugins)];
    if (errors.length > 0) {
      throw new HttpError(
        400,
        `Connector configuration is invalid and contains the following ${errors.length} error(s):\n${errors.join("\n")}\n` +
          "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
      );
    }
    const existing = this.connectors.get(name);
    const behaviour = { ...this.behaviours.get(name) };
    const submitted = { ...config, name };
    if (existing) {
      this.settle(existing);
      existing.config = submitted;
      const delay = behaviour.restartDelayMs ?? 0;
      existing.pending = { config: { ...submitted }, restartAt: this.now() + delay, behaviour };
      this.settle(existing);
      return [200, this.info(name, existing)];
    }
    const connector: Connector = {
      config: submitted,
      target: "RUNNING",
      running: { config: { ...submitted }, startedAt: this.now(), behaviour },
    };
    this.connectors.set(name, connector);
    return [201, this.info(name, connector)];
  }

  /** Applies a pending config update whose restart time has come. */
  private settle(connector: Connector): void {
    const pending = connector.pending;
    if (!pending || this.now() < pending.restartAt) return;
    connector.running = {
      config: pending.config,
      startedAt: pending.restartAt,
      behaviour: pending.behaviour,
    };
    connector.pending = undefined;
  }

  private restart(name: string, connector: Connector): void {
    connector.running = {
      config: connector.running.config,
      startedAt: this.now(),
      behaviour: { ...this.behaviours.get(name) },
    };
  }

  /** Body of `GET /connectors/{name}/tasks`: the running task configs (a copy of the connector config, as Debezium and the S3 sink generate them). */
  private taskConfigs(name: string, connector: Connector) {
    const tasks = connector.target === "STOPPED" ? 0 : taskCount(connector.running.config);
    return Array.from({ length: tasks }, (_, task) => ({
      id: { connector: name, task },
      config: { ...connector.running.config },
    }));
  }

  /** Connect's resolution of config-provider placeholders (the worker's config providers). */
  private resolve(config: Record<string, string>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(config).map(([key, value]) => [key, this.secrets[value] ?? value]),
    );
  }

  /** `PUT /connector-plugins/{class}/config/validate`: applies nothing; 200 with the errors per key. */
  private validate(connectorClass: string, submitted: Record<string, string>) {
    const included = submitted["connector.class"];
    if (included === undefined) {
      throw new HttpError(400, `Connector config ${JSON.stringify(submitted)} contains no connector type`);
    }
    if (included !== connectorClass) {
      throw new HttpError(
        400,
        `Included connector type ${included} does not match request type ${connectorClass}`,
      );
    }
    const spec = this.plugins[connectorClass];
    if (!spec)
      throw new HttpError(this.unknownPluginStatus, unknownPluginMessage(connectorClass, this.plugins));
    const config = this.resolve(submitted);
    const errors = keyErrors(spec, config);
    const keys = [
      ...new Set([
        "name",
        "connector.class",
        ...spec.required,
        ...Object.keys(spec.oneOf ?? {}),
        ...Object.keys(config),
      ]),
    ];
    const configs = keys.map((key) => ({
      definition: {
        name: key,
        required: key === "name" || key === "connector.class" || spec.required.includes(key),
      },
      value: {
        name: key,
        // The value as validated: resolved, so a string-typed key shows the secret a placeholder stood for.
        value: config[key] ?? null,
        errors: errors[key] ?? [],
        recommended_values: spec.oneOf?.[key] ?? [],
        visible: true,
      },
    }));
    const error_count = configs.reduce((sum, c) => sum + c.value.errors.length, 0);
    return { name: connectorClass, error_count, groups: ["Common"], configs };
  }

  private info(name: string, connector: Connector) {
    const tasks = connector.target === "STOPPED" ? 0 : taskCount(connector.running.config);
    return {
      name,
      config: { ...connector.config },
      tasks: Array.from({ length: tasks }, (_, task) => ({ connector: name, task })),
      type: this.plugins[connector.config["connector.class"]!]?.type ?? "unknown",
    };
  }

  private status(name: string, connector: Connector) {
    const { running } = connector;
    const type = this.plugins[running.config["connector.class"]!]?.type ?? "unknown";
    const worker = this.workers[0]!;
    if (connector.target !== "RUNNING") {
      const tasks = connector.target === "STOPPED" ? 0 : taskCount(running.config);
      return {
        name,
        type,
        connector: { state: connector.target, worker_id: worker },
        tasks: this.tasks(tasks, () => connector.target),
      };
    }
    const { behaviour } = running;
    const elapsed = this.now() - running.startedAt;
    const startupMs = behaviour.startupMs ?? 0;
    if (elapsed < startupMs / 2)
      return { name, type, connector: { state: "UNASSIGNED", worker_id: worker }, tasks: [] };
    const started = elapsed >= startupMs;
    const tasks = this.tasks(taskCount(running.config), (id) => {
      if (!started) return "UNASSIGNED";
      return behaviour.failTask?.id === id ? "FAILED" : "RUNNING";
    }).map((task) => (task.state === "FAILED" ? { ...task, trace: behaviour.failTask!.trace } : task));
    return { name, type, connector: { state: "RUNNING", worker_id: worker }, tasks };
  }

  private tasks(count: number, state: (id: number) => State) {
    return Array.from({ length: count }, (_, id) => ({
      id,
      state: state(id),
      worker_id: this.workers[id % this.workers.length]!,
    })) as Array<{ id: number; state: State; worker_id: string; trace?: string }>;
  }

  private mustGet(name: string): Connector {
    const connector = this.connectors.get(name);
    if (!connector) throw new HttpError(404, `Connector ${name} not found`);
    return connector;
  }
}

function taskCount(config: Record<string, string>): number {
  return Math.max(1, Number.parseInt(config["tasks.max"] ?? "1", 10) || 1);
}

/** Validation errors by key, in Connect's order: `name` (every connector needs one), then the plugin's keys. */
function keyErrors(spec: PluginSpec, config: Record<string, string>): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  const add = (key: string, message: string) => (errors[key] ??= []).push(message);
  for (const key of ["name", ...spec.required]) {
    if (config[key] === undefined || config[key] === "")
      add(key, `Missing required configuration "${key}" which has no default value.`);
  }
  for (const [key, allowed] of Object.entries(spec.oneOf ?? {})) {
    const value = config[key];
    if (value !== undefined && !allowed.includes(value))
      add(
        key,
        `Invalid value ${value} for configuration ${key}: String must be one of: ${allowed.join(", ")}`,
      );
  }
  return errors;
}

function unknownPluginMessage(connectorClass: string, plugins: Record<string, PluginSpec>): string {
  return (
    `Failed to find any class that implements Connector and which name matches ${connectorClass}, ` +
    `available connectors are: ${Object.keys(plugins).join(", ")}`
  );
}

function asConfig(body: unknown): Record<string, string> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "Request body must be a JSON object of connector configs");
  }
  // Jackson reads a Map<String, String>: scalars become their string form.
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return null;
  }
}
