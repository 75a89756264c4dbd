/**
 * The inline Pulumi program of the real-engine tests: the project's Debezium source config as a
 * KafkaConnector and a FileStream sink as the second connector. The spec is read on every run, so a test
 * changes what is declared between `up`s. (Topics: see bed.ts; the @pulumi/kafka plugin cannot be built here.)
 */
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { buildSourceConnector } from "../../../../connectors/config";
import { KafkaConnector } from "../../../../connectors/connect-api";
import { PASSWORD_ENV } from "./bed";

export const SOURCE_NAME = "cdc-postgres-source";
export const SINK_NAME = "cdc-file-sink";
export const BROKEN_NAME = "cdc-broken-source";
export const PRODUCTS_TOPIC = "cdc.commerce.products";

export interface StackSpec {
  connectUrl: string;
  databasePort: number;
  /** The file the FileStream sink appends the products topic to. */
  sinkFile: string;
  /** Source config keys set on top of the builder's. */
  sourceOverrides?: Record<string, string>;
  /** A third connector, a source whose task fails at start: its publication does not exist. */
  brokenSourcePublication?: string;
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
    const source = new KafkaConnector("source", {
      connectUrl: s.connectUrl,
      name: SOURCE_NAME,
      config: sourceConfig(s, `\${env:${PASSWORD_ENV}}`, s.sourceOverrides),
      timeouts: FAST_TIMEOUTS,
    });
    const sink = new KafkaConnector("sink", {
      connectUrl: s.connectUrl,
      name: SINK_NAME,
      config: {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        topics: PRODUCTS_TOPIC,
        file: s.sinkFile,
      },
      timeouts: FAST_TIMEOUTS,
    });
    if (s.brokenSourcePublication !== undefined) {
      new KafkaConnector("broken", {
        connectUrl: s.connectUrl,
        name: BROKEN_NAME,
        config: sourceConfig(s, `\${env:${PASSWORD_ENV}}`, {
          "topic.prefix": "broken",
          "slot.name": "cdc_broken_slot",
          "publication.name": s.brokenSourcePublication,
        }),
        timeouts: { ...FAST_TIMEOUTS, runningTimeoutSeconds: 60 },
      });
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
