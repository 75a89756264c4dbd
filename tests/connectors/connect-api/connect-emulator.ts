// An in-process Kafka Connect REST API (data-contract.md §5) on a real socket, with the failures a manager
// must survive: rebalance 409s, 5xx, slow answers, tasks that take time to start or fail with a trace,
// and a config update that restarts the tasks asynchronously (the old tasks keep reporting their states,
// and the task configs stay the old ones, until the restart). Every request is logged so tests can assert
// the exact calls made.
//
// It is held to a real Kafka Connect 4.3.1 worker by emulator-vs-connect.test.ts, which sends the same
// requests to both and compares status codes and bodies: answer here what that worker answers (validation
// as emulator-plugins.ts describes it; 500 for validating a plugin class no worker has; 202 with the planned
// states for a restart with `includeTasks`/`onlyFailed`, 204 without; 204 for stop; each endpoint's own 404
// message). What it leaves out: the timing of real state changes (they land at once here, unless a
// behaviour delays them), connector-level failures, and Java's order when it prints a map of several keys.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import {
  DEFAULT_PLUGINS,
  javaMap,
  pluginList,
  pluginVersion,
  taskClassOf,
  unknownPluginMessage,
  validatedKeys,
  validationBody,
  type PluginSpec,
} from "./emulator-plugins";

type State = "UNASSIGNED" | "RUNNING" | "PAUSED" | "FAILED" | "RESTARTING" | "STOPPED";

/**
 * How a connector behaves once (re)configured or resumed. Each start (create, restart after a config
 * update, resume, POST restart of its tasks) takes the behaviour set at that moment; a running start keeps its own.
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

interface TaskStatus {
  id: number;
  state: State;
  worker_id: string;
  version: string;
  trace?: string;
}

const REBALANCE_MESSAGE = "Request cannot be completed because a rebalance is expected";
/** What Connect answers for a connector it does not have, by endpoint, when not `Connector {} not found`. */
const NOT_FOUND: Record<string, string> = {
  status: "No status found for connector {}",
  pause: "Unknown connector {}",
  resume: "Unknown connector {}",
  stop: "Unknown connector {}",
  restart: "Unknown connector: {}",
};
// Connect wraps what its validation threw in these exceptions and prints their class in the message.
const BAD_REQUEST = "org.apache.kafka.connect.runtime.rest.errors.BadRequestException";
const CONNECT_EXCEPTION = "org.apache.kafka.connect.errors.ConnectException";
const UNVALUED_KEY_FAILURE =
  'Cannot invoke "org.apache.kafka.connect.runtime.rest.entities.ConfigValueInfo.errors()" because the ' +
  'return value of "org.apache.kafka.connect.runtime.rest.entities.ConfigInfo.configValue()" is null';

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
  ) {}

  static async start(
    options: {
      /** The connector plugins the workers load. Default DEFAULT_PLUGINS. */
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
    const connector = this.connectors.get(name);
    if (!connector) throw new Error(`no connector ${name} to edit`);
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
      return [200, pluginList(this.plugins)];
    }
    if (parts[0] !== "connectors") throw new HttpError(404, "HTTP 404 Not Found");
    if (parts.length === 1 && method === "GET") return [200, [...this.connectors.keys()].sort()];
    const name = parts[1]!;
    const action = parts.slice(2).join("/");
    if (action === "config" && method === "PUT") return this.putConfig(name, asConfig(body));
    const connector = this.connectors.get(name);
    if (!connector)
      throw new HttpError(404, (NOT_FOUND[action] ?? "Connector {} not found").replace("{}", name));
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
        connector.target = "PAUSED";
        return [202, undefined];
      case "PUT resume":
        connector.target = "RUNNING";
        this.restart(name, connector);
        return [202, undefined];
      case "PUT stop":
        connector.target = "STOPPED";
        return [204, undefined];
      case "POST restart":
        return this.restartRequest(name, connector, url.searchParams);
      case "GET offsets":
        return [200, { offsets: this.offsetsOf(name) }];
      case "DELETE offsets":
        return this.resetOffsets(name, connector);
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
    const submitted = { name, ...config };
    const connectorClass = config["connector.class"];
    if (connectorClass === undefined) {
      throw new HttpError(400, `Connector config ${javaMap(submitted)} contains no connector type`);
    }
    const spec = this.plugins[connectorClass];
    if (!spec)
      throw new HttpError(400, `${CONNECT_EXCEPTION}: ${unknownPluginMessage(connectorClass, this.plugins)}`);
    const errors = validatedKeys(spec, this.resolve(submitted)).flatMap((key) => key.errors);
    if (errors.length > 0) {
      // Connect reads the errors of every key validate listed: one listed without a value makes it fail.
      if (spec.unvaluedKeys?.length) throw new HttpError(500, UNVALUED_KEY_FAILURE);
      throw new HttpError(
        400,
        `Connector configuration is invalid and contains the following ${errors.length} error(s):\n${errors.join("\n")}\n` +
          "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
      );
    }
    const existing = this.connectors.get(name);
    const behaviour = { ...this.behaviours.get(name) };
    if (existing) {
      this.settle(existing);
      // Connect answers with the new config and the tasks it knew before the update.
      const answer = { ...this.info(name, existing), config: { ...submitted } };
      existing.config = submitted;
      const delay = behaviour.restartDelayMs ?? 0;
      existing.pending = { config: { ...submitted }, restartAt: this.now() + delay, behaviour };
      this.settle(existing);
      return [200, answer];
    }
    const connector: Connector = {
      config: submitted,
      target: "RUNNING",
      running: { config: { ...submitted }, startedAt: this.now(), behaviour },
    };
    this.connectors.set(name, connector);
    // A new connector has generated no task yet when Connect answers.
    return [201, { ...this.info(name, connector), tasks: [] }];
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

  /**
   * `POST …/restart`. Without `includeTasks` or `onlyFailed`, Connect restarts the connector instance only
   * (its tasks keep running) and answers 204. With either, it answers 202 with the status it plans: what it
   * restarts (with `onlyFailed`, only what FAILED; tasks only with `includeTasks`) shows RESTARTING, a
   * task keeping its trace. Restarted tasks start again here as a new generation (all of them).
   */
  private restartRequest(name: string, connector: Connector, query: URLSearchParams): [number, unknown] {
    const includeTasks = query.get("includeTasks") === "true";
    const onlyFailed = query.get("onlyFailed") === "true";
    if (!includeTasks && !onlyFailed) return [204, undefined];
    const status = this.status(name, connector);
    const restarts = (state: State) => !onlyFailed || state === "FAILED";
    const tasks = status.tasks.map((task) =>
      includeTasks && restarts(task.state) ? { ...task, state: "RESTARTING" as const } : task,
    );
    if (tasks.some((task) => task.state === "RESTARTING")) this.restart(name, connector);
    const connectorState = restarts(status.connector.state) ? "RESTARTING" : status.connector.state;
    return [202, { ...status, connector: { ...status.connector, state: connectorState }, tasks }];
  }

  private resetOffsets(name: string, connector: Connector): [number, unknown] {
    if (connector.target !== "STOPPED") {
      throw new HttpError(
        400,
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the " +
          `specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`,
      );
    }
    this.offsets.delete(name);
    const message = this.plugins[connector.config["connector.class"]!]?.alterOffsets
      ? "The offsets for this connector have been reset successfully"
      : "The Connect framework-managed offsets for this connector have been reset successfully. However, if this " +
        "connector manages offsets externally, they will need to be manually reset in the system that the connector uses.";
    return [200, { message }];
  }

  /**
   * Body of `GET /connectors/{name}/tasks`: the running task configs, each the connector config (as the
   * FileStream connectors, Debezium and the S3 sink generate them) plus the `task.class` Connect adds.
   */
  private taskConfigs(name: string, connector: Connector) {
    const { config } = connector.running;
    const connectorClass = config["connector.class"]!;
    const spec = this.plugins[connectorClass];
    const taskClass = spec ? { "task.class": taskClassOf(connectorClass, spec) } : {};
    return Array.from({ length: this.taskCount(connector) }, (_, task) => ({
      id: { connector: name, task },
      config: { ...config, ...taskClass },
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
    if (included !== undefined && included !== connectorClass) {
      throw new HttpError(
        400,
        `Included connector type ${included} does not match request type ${connectorClass}`,
      );
    }
    // Connect validates in a worker thread, and answers 500 with what that thread threw.
    if (included === undefined)
      throw new HttpError(
        500,
        `${BAD_REQUEST}: Connector config ${javaMap(submitted)} contains no connector type`,
      );
    const spec = this.plugins[connectorClass];
    if (!spec)
      throw new HttpError(500, `${BAD_REQUEST}: ${unknownPluginMessage(connectorClass, this.plugins)}`);
    return validationBody(connectorClass, spec, this.resolve(submitted));
  }

  private specOf(connector: Connector): PluginSpec | undefined {
    return this.plugins[connector.running.config["connector.class"]!];
  }

  /** Tasks the running config generates: none when STOPPED, else `tasks.max` up to the plugin's limit. */
  private taskCount(connector: Connector): number {
    if (connector.target === "STOPPED") return 0;
    const wanted = Math.max(1, Number.parseInt(connector.running.config["tasks.max"] ?? "1", 10) || 1);
    return Math.min(wanted, this.specOf(connector)?.maxTasks ?? wanted);
  }

  private info(name: string, connector: Connector) {
    return {
      name,
      config: { ...connector.config },
      tasks: Array.from({ length: this.taskCount(connector) }, (_, task) => ({ connector: name, task })),
      type: this.plugins[connector.config["connector.class"]!]?.type ?? "unknown",
    };
  }

  private status(name: string, connector: Connector) {
    const spec = this.specOf(connector);
    const type = spec?.type ?? "unknown";
    const version = spec ? pluginVersion(spec) : "unknown";
    const state = (connectorState: State) => ({
      state: connectorState,
      worker_id: this.workers[0]!,
      version,
    });
    const tasks = (taskState: (id: number) => State): TaskStatus[] =>
      Array.from({ length: this.taskCount(connector) }, (_, id) => ({
        id,
        state: taskState(id),
        worker_id: this.workers[id % this.workers.length]!,
        version,
      }));
    if (connector.target !== "RUNNING")
      return { name, connector: state(connector.target), tasks: tasks(() => connector.target), type };
    const { behaviour, startedAt } = connector.running;
    const elapsed = this.now() - startedAt;
    const startupMs = behaviour.startupMs ?? 0;
    if (elapsed < startupMs / 2) return { name, connector: state("UNASSIGNED"), tasks: [], type };
    const started = elapsed >= startupMs;
    const failed = behaviour.failTask;
    const all = tasks((id) => (!started ? "UNASSIGNED" : failed?.id === id ? "FAILED" : "RUNNING"));
    return {
      name,
      connector: state("RUNNING"),
      tasks: all.map((task) => (task.state === "FAILED" ? { ...task, trace: failed!.trace } : task)),
      type,
    };
  }
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
