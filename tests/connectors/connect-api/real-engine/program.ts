/**
 * The inline Pulumi program of the real-engine tests: the pipeline's topics through the project's
 * KafkaTopics component (@pulumi/kafka on the real broker), the project's Debezium source config as a
 * KafkaConnector, and a FileStream sink as the second connector. The spec is read on every run, so a test
 * changes what is declared between `up`s.
 */
import * as kafka from "@pulumi/kafka";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { buildSourceConnector } from "../../../../connectors/config";
import { KafkaConnector } from "../../../../connectors/connect-api";
import { KafkaTopics, planTopics } from "../../../../infra/kafka-topics";
import { CONNECT_GROUP, PASSWORD_ENV } from "./bed";

export const SOURCE_NAME = "cdc-postgres-source";
export const SINK_NAME = "cdc-file-sink";
export const BROKEN_NAME = "cdc-broken-source";
export const PRODUCTS_TOPIC = "cdc.commerce.products";

export interface StackSpec {
  bootstrapServers: string;
  connectUrl: string;
  databasePort: number;
  /** The file the FileStream sink appends the products topic to. */
  sinkFile: string;
  /** `topics`: only the topics (before the workers start, as the stack orders it); `connectors`: everything. */
  phase: "topics" | "connectors";
  /** Source config keys set on top of the builder's. */
  sourceOverrides?: Record<string, string>;
  /** A third connector, a source whose password placeholder resolves to a wrong password. */
  brokenSourcePasswordFile?: string;
}

const FAST_TIMEOUTS = { runningTimeoutSeconds: 120, requestTimeoutSeconds: 30, pollIntervalSeconds: 1 };

function sourceConfig(spec: StackSpec, password: string, overrides: Record<string, string> = {}) {
  const built = buildSourceConnector({
    database: {
      hostname: "127.0.0.1",
      port: spec.databasePort,
      dbname: "postgres",
      password,
      sslMode: "disable",
    },
  });
  return { ...built.config, ...overrides };
}

export function connectorProgram(spec: () => StackSpec): PulumiFn {
  return async () => {
    const s = spec();
    const provider = new kafka.Provider("broker", {
      bootstrapServers: [s.bootstrapServers],
      tlsEnabled: false,
    });
    const plan = planTopics({ connectGroupId: CONNECT_GROUP, partitions: 1, retentionHours: 24 });
    const topics = new KafkaTopics(
      "topics",
      { topics: plan.topics, replicationFactor: 1, ephemeral: true },
      { providers: { kafka: provider } },
    );
    if (s.phase === "topics") return { topicNames: Object.keys(topics.topics) };

    const dependsOn = Object.values(topics.topics);
    const source = new KafkaConnector(
      "source",
      {
        connectUrl: s.connectUrl,
        name: SOURCE_NAME,
        config: sourceConfig(s, `\${env:${PASSWORD_ENV}}`, s.sourceOverrides),
        timeouts: FAST_TIMEOUTS,
      },
      { dependsOn },
    );
    const sink = new KafkaConnector(
      "sink",
      {
        connectUrl: s.connectUrl,
        name: SINK_NAME,
        config: {
          "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
          "tasks.max": "1",
          topics: PRODUCTS_TOPIC,
          file: s.sinkFile,
        },
        timeouts: FAST_TIMEOUTS,
      },
      { dependsOn },
    );
    if (s.brokenSourcePasswordFile !== undefined) {
      new KafkaConnector(
        "broken",
        {
          connectUrl: s.connectUrl,
          name: BROKEN_NAME,
          config: sourceConfig(s, `\${file:${s.brokenSourcePasswordFile}:password}`, {
            "topic.prefix": "broken",
            "slot.name": "cdc_broken_slot",
          }),
          timeouts: { ...FAST_TIMEOUTS, runningTimeoutSeconds: 60 },
        },
        { dependsOn },
      );
    }
    return {
      sourceState: source.connectorState,
      sourceTasks: source.taskStates,
      sinkState: sink.connectorState,
      sinkTasks: sink.taskStates,
      sourceConfig: source.config,
    };
  };
}
