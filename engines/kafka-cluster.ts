/**
 * A one-node Kafka (KRaft) broker and Kafka Connect workers in distributed mode, as child JVMs of this
 * process, on free loopback ports, in a folder the caller owns. Each process logs to a file there; a
 * process that does not come up fails with its log's last lines. All are killed if this process exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { findFreePort } from "../local/postgres";
import type { KafkaEngines } from "./provision";

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export interface JavaProcess {
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 20 s); resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: a crash, as a test may want one. */
  kill(): Promise<void>;
}

const LOG4J2 = `status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.kafka-server.name = kafka.server.KafkaRaftServer
logger.kafka-server.level = INFO
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
`;

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function propertiesFile(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}

function startJava(
  engines: KafkaEngines,
  dir: string,
  name: string,
  args: string[],
  options: { heap: string; env?: Record<string, string> },
): { child: ChildProcess; logFile: string; exited: Promise<number | null> } {
  const log4j = join(dir, "log4j2.properties");
  writeFileSync(log4j, LOG4J2);
  const logFile = join(dir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(
    "java",
    [
      `-Xmx${options.heap}`,
      "-Djava.awt.headless=true",
      // As the worker image (connectors/worker/Dockerfile): Debezium prints a tstzrange in this zone.
      "-Duser.timezone=UTC",
      `-Dlog4j2.configurationFile=${log4j}`,
      "-cp",
      `${engines.libDir}/*`,
      ...args,
    ],
    { cwd: dir, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, logFile, exited };
}

function control(child: ChildProcess, logFile: string, exited: Promise<number | null>): JavaProcess {
  return {
    logFile,
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Polls `ready` until it resolves true; fails early if the process exits, or after `timeoutMs`. */
async function waitUntil(
  what: string,
  logFile: string,
  exited: Promise<number | null>,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`${what} exited (${exitCode}) before it was ready; ${logFile}:\n${tail(logFile)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} not ready after ${timeoutMs / 1000} s; ${logFile}:\n${tail(logFile)}`);
    await sleep(250);
  }
}

export interface KafkaBroker extends JavaProcess {
  readonly bootstrapServers: string;
}

/**
 * Formats a fresh KRaft log dir in `dir` and starts a broker+controller node on it. `properties` adds to or
 * replaces the server settings (e.g. `auto.create.topics.enable: "false"`, as the stack configures MSK).
 */
export async function startKafkaBroker(
  engines: KafkaEngines,
  dir: string,
  properties: Record<string, string | number> = {},
): Promise<KafkaBroker> {
  mkdirSync(dir, { recursive: true });
  const [port, controllerPort] = [await findFreePort(), await findFreePort()];
  const config = join(dir, "server.properties");
  // The single-node settings of Kafka 4's quickstart (config/server.properties), on loopback ports.
  writeFileSync(
    config,
    propertiesFile({
      "process.roles": "broker,controller",
      "node.id": 1,
      "controller.quorum.bootstrap.servers": `127.0.0.1:${controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      "advertised.listeners": `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      "inter.broker.listener.name": "PLAINTEXT",
      "controller.listener.names": "CONTROLLER",
      "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      "log.dirs": join(dir, "data"),
      "num.partitions": 1,
      "offsets.topic.replication.factor": 1,
      "share.coordinator.state.topic.replication.factor": 1,
      "share.coordinator.state.topic.min.isr": 1,
      "transaction.state.log.replication.factor": 1,
      "transaction.state.log.min.isr": 1,
      "group.initial.rebalance.delay.ms": 0,
      ...properties,
    }),
  );
  const format = startJava(
    engines,
    dir,
    "storage-format",
    ["kafka.tools.StorageTool", "format", "--standalone", "-t", randomUUID(), "-c", config],
    {
      heap: "256m",
    },
  );
  const formatExit = await format.exited;
  if (formatExit !== 0)
    throw new Error(`formatting the Kafka log dir failed (${formatExit}):\n${tail(format.logFile)}`);
  const { child, logFile, exited } = startJava(engines, dir, "broker", ["kafka.Kafka", config], {
    heap: "512m",
  });
  await waitUntil(
    "the Kafka broker",
    logFile,
    exited,
    async () => readFileSync(logFile, "utf8").includes("Kafka Server started"),
    90_000,
  );
  return { bootstrapServers: `127.0.0.1:${port}`, ...control(child, logFile, exited) };
}

export interface ConnectWorkerOptions {
  bootstrapServers: string;
  /** The Connect group: workers with the same id form one cluster. */
  groupId: string;
  /** Environment of the worker JVM (what `${env:…}` placeholders resolve from). */
  env?: Record<string, string>;
  /** Worker settings added to, or replacing, the defaults. */
  properties?: Record<string, string | number>;
}

export interface ConnectWorker extends JavaProcess {
  /** The REST API, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The worker's id as Connect reports it in statuses (`127.0.0.1:<port>`). */
  readonly workerId: string;
}

/** Starts a distributed Connect worker in `dir` and waits until its REST API answers with the plugins loaded. */
export async function startConnectWorker(
  engines: KafkaEngines,
  dir: string,
  options: ConnectWorkerOptions,
): Promise<ConnectWorker> {
  mkdirSync(dir, { recursive: true });
  const port = await findFreePort();
  const config = join(dir, "worker.properties");
  const group = options.groupId;
  writeFileSync(
    config,
    propertiesFile({
      "bootstrap.servers": options.bootstrapServers,
      "group.id": group,
      "config.storage.topic": `${group}-configs`,
      "offset.storage.topic": `${group}-offsets`,
      "status.storage.topic": `${group}-status`,
      "config.storage.replication.factor": 1,
      "offset.storage.replication.factor": 1,
      "status.storage.replication.factor": 1,
      "offset.flush.interval.ms": 1000,
      "key.converter": "org.apache.kafka.connect.json.JsonConverter",
      "value.converter": "org.apache.kafka.connect.json.JsonConverter",
      "key.converter.schemas.enable": "true",
      "value.converter.schemas.enable": "true",
      listeners: `http://127.0.0.1:${port}`,
      "rest.advertised.host.name": "127.0.0.1",
      "rest.advertised.port": port,
      "plugin.path": engines.pluginsDir,
      "config.providers": "env,file",
      "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
      "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
      "scheduled.rebalance.max.delay.ms": 0,
      ...options.properties,
    }),
  );
  const { child, logFile, exited } = startJava(
    engines,
    dir,
    "connect",
    ["org.apache.kafka.connect.cli.ConnectDistributed", config],
    {
      heap: "768m",
      env: options.env,
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    "the Kafka Connect worker",
    logFile,
    exited,
    async () => {
      // The REST server answers before the worker joined its group; plugins and the connector list
      // answer 200 only once it can serve requests.
      const [plugins, connectors] = await Promise.all([
        fetch(`${url}/connector-plugins`),
        fetch(`${url}/connectors`),
      ]);
      return (
        plugins.status === 200 &&
        connectors.status === 200 &&
        readFileSync(logFile, "utf8").includes("Joined group")
      );
    },
    180_000,
  );
  return { url, workerId: `127.0.0.1:${port}`, ...control(child, logFile, exited) };
}
