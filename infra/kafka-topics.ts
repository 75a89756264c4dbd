// Topics: the change topics, Debezium's heartbeat and signalling topics and Kafka Connect's internal topics,
// declared through the kafka provider (the brokers never create topics on their own).
import * as kafka from "@pulumi/kafka";
import * as pulumi from "@pulumi/pulumi";
import { PIPELINE_DEFAULTS, topicForTable } from "../connectors/config";

export interface TopicSpec {
  name: string;
  partitions: number;
  config: Record<string, string>;
}

export interface TopicPlan {
  /** `cdc.commerce.products`, `cdc.commerce.users`. */
  changeTopics: string[];
  heartbeatTopic: string;
  /**
   * `cdc.commerce.cdc_signal`: Debezium writes the signalling table's rows (re-snapshot requests,
   * incremental-snapshot watermarks) to a topic of their own although the table is not captured; the
   * brokers create no topic on their own, so without it the first request would fail the source task.
   */
  signalTopic: string;
  /** Kafka Connect's `config.storage.topic`, `offset.storage.topic`, `status.storage.topic`. */
  connectTopics: { config: string; offset: string; status: string };
  topics: TopicSpec[];
}

/** Debezium's heartbeat topic: `topic.heartbeat.prefix` (default `__debezium-heartbeat`) + topic prefix. */
export function heartbeatTopicName(topicPrefix: string): string {
  return `__debezium-heartbeat.${topicPrefix}`;
}

/**
 * Every topic the pipeline uses. Change topics keep `retentionHours` (compaction would lose the
 * history the SCD2 job needs); the internal Connect topics are compacted, as Kafka Connect requires.
 */
export function planTopics(options: {
  connectGroupId: string;
  partitions: number;
  retentionHours: number;
  topicPrefix?: string;
  tables?: readonly string[];
  /** `signal.data.collection`. Defaults to `commerce.cdc_signal`. */
  signalTable?: string;
}): TopicPlan {
  const prefix = options.topicPrefix ?? PIPELINE_DEFAULTS.topicPrefix;
  const changeTopics = (options.tables ?? PIPELINE_DEFAULTS.tables).map((t) => topicForTable(prefix, t));
  const heartbeatTopic = heartbeatTopicName(prefix);
  const signalTopic = topicForTable(prefix, options.signalTable ?? PIPELINE_DEFAULTS.signalTable);
  const connectTopics = {
    config: `${options.connectGroupId}-configs`,
    offset: `${options.connectGroupId}-offsets`,
    status: `${options.connectGroupId}-status`,
  };
  const retention = {
    "cleanup.policy": "delete",
    "retention.ms": String(options.retentionHours * 3_600_000),
  };
  const compacted = { "cleanup.policy": "compact" };
  return {
    changeTopics,
    heartbeatTopic,
    signalTopic,
    connectTopics,
    topics: [
      ...changeTopics.map((name) => ({ name, partitions: options.partitions, config: retention })),
      {
        name: heartbeatTopic,
        partitions: 1,
        config: { "cleanup.policy": "delete", "retention.ms": "86400000" },
      },
      // Nothing reads it back: a day is enough to look at a request's rows.
      {
        name: signalTopic,
        partitions: 1,
        config: { "cleanup.policy": "delete", "retention.ms": "86400000" },
      },
      // Kafka Connect requires exactly one partition for its config topic.
      { name: connectTopics.config, partitions: 1, config: compacted },
      { name: connectTopics.offset, partitions: 25, config: compacted },
      { name: connectTopics.status, partitions: 5, config: compacted },
    ],
  };
}

export interface KafkaTopicsArgs {
  /** The topics to create (from `planTopics`). */
  topics: TopicSpec[];
  /** Replication factor of every topic. Defaults to 3. */
  replicationFactor?: number;
  /** Ephemeral stack: topics are not protected. Defaults to false. */
  ephemeral?: boolean;
}

export class KafkaTopics extends pulumi.ComponentResource {
  /** The topic resources by Kafka topic name (for dependsOn). */
  readonly topics: Record<string, kafka.Topic>;

  /** `opts.providers` must carry the kafka provider that reaches the brokers. */
  constructor(name: string, args: KafkaTopicsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:kafka:KafkaTopics", name, {}, opts);
    this.topics = {};
    for (const spec of args.topics) {
      const resourceName = `${name}-${spec.name.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+/, "")}`;
      this.topics[spec.name] = new kafka.Topic(
        resourceName,
        {
          name: spec.name,
          partitions: spec.partitions,
          replicationFactor: args.replicationFactor ?? 3,
          config: spec.config,
        },
        // Deleting a topic drops its data: long-lived stacks must mean it.
        { parent: this, protect: !(args.ephemeral ?? false) },
      );
    }
    this.registerOutputs({ topicNames: Object.keys(this.topics) });
  }
}
