// Kafka: MSK with IAM auth and TLS only, encrypted at rest, no automatic topic creation.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { physicalName, serviceLogGroup, type LogGroupSettings } from "./lib";

export interface KafkaArgs {
  /** Private subnets, one per AZ (provisioned brokers are spread across them). */
  subnetIds: pulumi.Input<string>[];
  /** Security group of the brokers. */
  securityGroupId: pulumi.Input<string>;
  /** "provisioned" brokers or MSK "serverless". Defaults to "provisioned". */
  mode?: "provisioned" | "serverless";
  /** Kafka version (provisioned). Defaults to "3.9.x". */
  kafkaVersion?: pulumi.Input<string>;
  /** Broker instance type (provisioned). Defaults to "kafka.t3.small". */
  brokerInstanceType?: pulumi.Input<string>;
  /** Number of brokers, a multiple of the subnet count (provisioned). Defaults to the subnet count. */
  brokerCount?: number;
  /** EBS volume per broker in GiB (provisioned). Defaults to 100. */
  brokerVolumeGb?: pulumi.Input<number>;
  /** `default.replication.factor` for topics created without one. Defaults to 3. */
  defaultReplicationFactor?: number;
  /** Log group retention and tags. */
  logs: LogGroupSettings;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

/** Broker settings: nothing may create topics implicitly; the stack declares every topic. */
export function brokerProperties(defaultReplicationFactor: number): string {
  return [
    "auto.create.topics.enable=false",
    `default.replication.factor=${defaultReplicationFactor}`,
    `min.insync.replicas=${Math.max(1, Math.min(2, defaultReplicationFactor - 1))}`,
    "unclean.leader.election.enable=false",
    "delete.topic.enable=true",
  ].join("\n");
}

export class Kafka extends pulumi.ComponentResource {
  readonly clusterArn: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  /** Comma-separated `host:9098` list for SASL/IAM over TLS. */
  readonly bootstrapBrokers: pulumi.Output<string>;
  readonly brokerCount: number;
  readonly mode: "provisioned" | "serverless";

  constructor(name: string, args: KafkaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:kafka:Kafka", name, {}, opts);
    const tags = args.tags ?? {};
    this.mode = args.mode ?? "provisioned";
    const clusterName = physicalName([pulumi.getProject(), pulumi.getStack()], 64);
    let cluster: aws.msk.Cluster | aws.msk.ServerlessCluster;

    if (this.mode === "serverless") {
      this.brokerCount = 0;
      cluster = new aws.msk.ServerlessCluster(
        `${name}-cluster`,
        {
          clusterName,
          // Serverless supports IAM auth only, always over TLS and encrypted at rest.
          clientAuthentication: { sasl: { iam: { enabled: true } } },
          vpcConfigs: [{ subnetIds: args.subnetIds, securityGroupIds: [args.securityGroupId] }],
          tags,
        },
        { parent: this },
      );
    } else {
      const brokerCount = args.brokerCount ?? args.subnetIds.length;
      if (brokerCount % args.subnetIds.length !== 0) {
        throw new Error(
          `brokerCount ${brokerCount} must be a multiple of the ${args.subnetIds.length} subnets`,
        );
      }
      this.brokerCount = brokerCount;
      const kafkaVersion = args.kafkaVersion ?? "3.9.x";
      const configuration = new aws.msk.Configuration(
        `${name}-config`,
        {
          kafkaVersions: [kafkaVersion],
          serverProperties: brokerProperties(args.defaultReplicationFactor ?? Math.min(3, brokerCount)),
        },
        { parent: this },
      );
      const brokerLogs = serviceLogGroup(`${name}-brokers`, "msk-brokers", args.logs, this);
      cluster = new aws.msk.Cluster(
        `${name}-cluster`,
        {
          clusterName,
          kafkaVersion,
          numberOfBrokerNodes: brokerCount,
          brokerNodeGroupInfo: {
            instanceType: args.brokerInstanceType ?? "kafka.t3.small",
            clientSubnets: args.subnetIds,
            securityGroups: [args.securityGroupId],
            storageInfo: { ebsStorageInfo: { volumeSize: args.brokerVolumeGb ?? 100 } },
            connectivityInfo: { publicAccess: { type: "DISABLED" } },
          },
          clientAuthentication: { sasl: { iam: true }, unauthenticated: false },
          encryptionInfo: {
            encryptionInTransit: { clientBroker: "TLS", inCluster: true },
            // At rest MSK always encrypts; without a key ARN it uses the AWS-managed key.
          },
          configurationInfo: { arn: configuration.arn, revision: configuration.latestRevision },
          loggingInfo: {
            brokerLogs: { cloudwatchLogs: { enabled: true, logGroup: brokerLogs.name } },
          },
          enhancedMonitoring: "PER_BROKER",
          tags,
        },
        { parent: this },
      );
    }
    this.clusterArn = cluster.arn;
    this.clusterName = cluster.clusterName;
    this.bootstrapBrokers = cluster.bootstrapBrokersSaslIam;
    this.registerOutputs({ clusterArn: this.clusterArn, bootstrapBrokers: this.bootstrapBrokers });
  }
}
