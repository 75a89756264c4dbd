// The stack: validated config in, components composed, the outputs a user needs out.
import { PIPELINE_DEFAULTS } from "../connectors/config";
import { NewTableSnapshots } from "../connectors/signals/resource";
import * as pulumi from "@pulumi/pulumi";
import { Analytics } from "./analytics";
import { Catalog } from "./catalog";
import { CdcCredentials } from "./cdc-credentials";
import { CdcObjects } from "./cdc-objects";
import { loadStackConfig, type ExistingDatabase } from "./config";
import { Connect } from "./connect";
import { ConnectorHealth } from "./connector-health";
import { Database, existingDatabaseEndpoint, type DatabaseEndpoint } from "./database";
import { privateEndpoints } from "./endpoints";
import { Kafka } from "./kafka";
import { KafkaTopics, planTopics } from "./kafka-topics";
import { standardTags } from "./lib";
import { Network } from "./network";
import { Observability } from "./observability";
import { PipelineConnectors } from "./pipeline-connectors";
import { Storage } from "./storage";
import { TunnelHost } from "./tunnel-host";

const cfg = loadStackConfig();
const tags = standardTags(cfg.tags, cfg.ephemeral);
const logs = { retentionDays: cfg.logRetentionDays, tags };
// The connectors exist only where Pulumi reaches the cluster (in-cluster resources) and they are on.
const connectorsDeployed = cfg.endpoints.inClusterResources && cfg.connect.connectorsEnabled;
const CONNECT_METRICS_NAMESPACE = "CdcPipeline/Connect";

const network = new Network("network", {
  region: cfg.region,
  cidrBlock: cfg.network.vpcCidr,
  availabilityZoneCount: cfg.network.availabilityZoneCount,
  existingVpc: cfg.network.existing,
  tunnelHost: cfg.network.tunnelHost,
  deployerCidrs: cfg.network.deployerCidrs,
  connectListenerPort: cfg.connect.certificateArn ? 443 : 80,
  existingDatabaseGroupId: cfg.database.existing?.securityGroupId,
  connectorHealth: connectorsDeployed,
  tags,
});
const firstSubnet = network.privateSubnetIds[0];
const tunnel =
  cfg.network.tunnelHost && firstSubnet
    ? new TunnelHost("tunnel", { subnetId: firstSubnet, securityGroupId: network.group("tunnel"), tags })
    : undefined;

const storage = new Storage("storage", {
  bucketName: cfg.storage.bucketName,
  topicsDir: cfg.storage.topicsDir,
  analyticsPrefix: cfg.storage.analyticsPrefix,
  rawInfrequentAccessDays: cfg.storage.rawInfrequentAccessDays,
  kms: cfg.storage.kms,
  ephemeral: cfg.ephemeral,
  tags,
});

const rds = cfg.database.existing
  ? undefined
  : new Database("database", {
      subnetIds: network.privateSubnetIds,
      securityGroupId: network.group("database"),
      majorVersion: cfg.database.postgresVersion,
      instanceClass: cfg.database.instanceClass,
      allocatedStorageGb: cfg.database.allocatedStorageGb,
      maxAllocatedStorageGb: cfg.database.maxAllocatedStorageGb,
      multiAz: cfg.database.multiAz,
      backupRetentionDays: cfg.database.backupRetentionDays,
      maxSlotWalKeepSizeMb: cfg.database.maxSlotWalKeepSizeMb,
      databaseName: cfg.database.databaseName,
      ephemeral: cfg.ephemeral,
      tags,
    });
const database: DatabaseEndpoint =
  rds ?? existingDatabaseEndpoint(cfg.database.existing as ExistingDatabase, cfg.database.databaseName);

const kafkaCluster = new Kafka("kafka", {
  subnetIds: network.privateSubnetIds,
  securityGroupId: network.group("kafka"),
  mode: cfg.kafka.mode,
  kafkaVersion: cfg.kafka.version,
  brokerInstanceType: cfg.kafka.brokerInstanceType,
  brokerCount: cfg.kafka.brokerCount,
  brokerVolumeGb: cfg.kafka.brokerVolumeGb,
  defaultReplicationFactor: cfg.kafka.topicReplicationFactor,
  logs,
  tags,
});

const connectGroupId = `cdc-connect-${cfg.stack}`;
const topicPlan = planTopics({
  connectGroupId,
  partitions: cfg.kafka.topicPartitions,
  retentionHours: cfg.kafka.topicRetentionHours,
});
const credentials = new CdcCredentials("cdc-credentials", {
  username: PIPELINE_DEFAULTS.cdcRole,
  ephemeral: cfg.ephemeral,
  tags,
});
// Objects inside the database and the brokers: only where Pulumi can reach them (docs/deploy.md).
const inCluster = cfg.endpoints.inClusterResources;
const endpoints = inCluster ? privateEndpoints(cfg, database, kafkaCluster.bootstrapBrokers) : undefined;
const topics = endpoints
  ? new KafkaTopics(
      "topics",
      {
        topics: topicPlan.topics,
        replicationFactor: cfg.kafka.topicReplicationFactor,
        ephemeral: cfg.ephemeral,
      },
      { providers: { kafka: endpoints.kafkaProvider } },
    )
  : undefined;

const cdcObjects = endpoints
  ? new CdcObjects(
      "cdc-objects",
      {
        databaseName: database.databaseName,
        adminConnection: endpoints.adminConnection,
        rolePassword: credentials.password,
        createCommerceTables: cfg.database.createCommerceTables,
        ephemeral: cfg.ephemeral,
      },
      { providers: { postgresql: endpoints.postgresProvider } },
    )
  : undefined;

const connect = new Connect("connect", {
  region: cfg.region,
  vpcId: network.vpcId,
  subnetIds: network.privateSubnetIds,
  workerSecurityGroupId: network.group("connect"),
  loadBalancerSecurityGroupId: network.group("connectLb"),
  kafkaClusterArn: kafkaCluster.clusterArn,
  bootstrapBrokers: kafkaCluster.bootstrapBrokers,
  groupId: connectGroupId,
  internalTopics: topicPlan.connectTopics,
  internalTopicReplicationFactor: cfg.kafka.topicReplicationFactor,
  dataTopics: [...topicPlan.changeTopics, topicPlan.heartbeatTopic, topicPlan.signalTopic],
  sinkConsumerGroups: [`connect-${PIPELINE_DEFAULTS.sinkConnectorName}`],
  bucketArn: storage.bucketArn,
  topicsDir: cfg.storage.topicsDir,
  bucketKmsKeyArn: storage.kmsKeyArn,
  cdcSecretArn: credentials.secretArn,
  // Without their topics (the AWS-only first phase of a tunnelled deployment) workers cannot start.
  desiredCount: inCluster ? cfg.connect.desiredCount : 0,
  minCount: cfg.connect.minCount,
  maxCount: cfg.connect.maxCount,
  cpuTargetPercent: cfg.connect.cpuTargetPercent,
  cpu: cfg.connect.cpu,
  memory: cfg.connect.memory,
  certificateArn: cfg.connect.certificateArn,
  ephemeral: cfg.ephemeral,
  // Workers need their internal topics (the stack creates them; the workers may not).
  // Created after, and so destroyed before, the slot and its grants: a worker still streaming the
  // slot would make dropping it fail ("replication slot is active").
  serviceDependsOn: [...(topics ? [topics] : []), ...(cdcObjects?.ready ?? [])],
  logs,
  tags,
});

const catalog = new Catalog("catalog", {
  region: cfg.region,
  bucketName: storage.bucketName,
  bucketArn: storage.bucketArn,
  analyticsPrefix: cfg.storage.analyticsPrefix,
  bucketKmsKeyArn: storage.kmsKeyArn,
  ephemeral: cfg.ephemeral,
  tags,
});

const analytics = new Analytics("analytics", {
  region: cfg.region,
  clusterArn: connect.clusterArn,
  subnetIds: network.privateSubnetIds,
  securityGroupId: network.group("analytics"),
  bucketName: storage.bucketName,
  bucketArn: storage.bucketArn,
  topicsDir: cfg.storage.topicsDir,
  analyticsPrefix: cfg.storage.analyticsPrefix,
  bucketKmsKeyArn: storage.kmsKeyArn,
  glueDatabase: catalog.databaseName,
  schedule: cfg.analytics.schedule,
  timezone: cfg.analytics.timezone,
  cpu: cfg.analytics.cpu,
  memory: cfg.analytics.memory,
  ephemeralStorageGiB: cfg.analytics.ephemeralStorageGiB,
  ephemeral: cfg.ephemeral,
  logs,
  tags,
});

const observability = new Observability("observability", {
  alarmEmails: cfg.alarms.emails,
  databaseInstanceIdentifier: database.instanceIdentifier,
  slotLagBytes: cfg.alarms.slotLagBytes,
  maxSlotWalKeepSizeMb: cfg.database.maxSlotWalKeepSizeMb,
  freeStorageBytes: cfg.alarms.freeStorageBytes,
  kafkaClusterName: kafkaCluster.clusterName,
  kafkaBrokerCount: kafkaCluster.brokerCount,
  kafkaDiskPercent: cfg.alarms.kafkaDiskPercent,
  connectClusterName: connect.clusterName,
  connectServiceName: connect.serviceName,
  connectMinRunning: inCluster ? cfg.connect.minCount : 0,
  analyticsClusterArn: connect.clusterArn,
  analyticsTaskFamily: analytics.taskFamily,
  analyticsSchedule: cfg.analytics.schedule,
  scheduleDeadLetterQueueName: analytics.deadLetterQueueName,
  connectorHealth: connectorsDeployed
    ? { namespace: CONNECT_METRICS_NAMESPACE, stack: cfg.stack }
    : undefined,
  region: cfg.region,
  tags,
});

if (endpoints && cdcObjects && topics && connectorsDeployed) {
  const connectors = new PipelineConnectors("connectors", {
    connectUrl: cfg.endpoints.connectUrl ?? connect.restUrl,
    databaseHost: database.host,
    databasePort: database.port,
    databaseName: database.databaseName,
    databaseSslMode: cfg.endpoints.databaseSslMode,
    passwordPlaceholder: credentials.passwordPlaceholder,
    bucketName: storage.bucketName,
    region: cfg.region,
    topicsDir: cfg.storage.topicsDir,
    sinkScheduledRotationMs:
      cfg.connect.sinkRotateScheduleMinutes > 0 ? cfg.connect.sinkRotateScheduleMinutes * 60_000 : undefined,
    dependsOn: [connect.service, topics, ...cdcObjects.ready],
    connectService: connect.service,
  });
  // A table added to the list: an incremental snapshot of it alone, once the source connector's update
  // has returned (its task runs the longer table.include.list; an older task would skip the request).
  new NewTableSnapshots(
    "new-table-snapshots",
    {
      connection: endpoints.adminConnection,
      signalTable: PIPELINE_DEFAULTS.signalTable,
      tables: [...PIPELINE_DEFAULTS.tables],
    },
    { dependsOn: [connectors.source] },
  );
  // Reads the workers' REST API through the load balancer, never the endpoint override Pulumi uses.
  new ConnectorHealth("connector-health", {
    region: cfg.region,
    connectUrl: connect.restUrl,
    expectedConnectors: [PIPELINE_DEFAULTS.sourceConnectorName, PIPELINE_DEFAULTS.sinkConnectorName],
    subnetIds: network.privateSubnetIds,
    securityGroupId: network.group("health"),
    namespace: CONNECT_METRICS_NAMESPACE,
    stack: cfg.stack,
    logs,
    tags,
  });
}

export const bucketName = storage.bucketName;
export const rawChangesUri = storage.uri(cfg.storage.topicsDir);
export const analyticsUri = storage.uri(cfg.storage.analyticsPrefix);
export const connectRestUrl = connect.restUrl;
export const kafkaBootstrapBrokers = kafkaCluster.bootstrapBrokers;
export const databaseEndpoint = pulumi.interpolate`${database.host}:${database.port}`;
export const databaseMasterSecretArn = database.masterSecretArn;
export const cdcSecretArn = credentials.secretArn;
export const scheduleName = analytics.scheduleName;
export const scheduleDeadLetterQueueUrl = analytics.deadLetterQueueUrl;
export const analyticsTaskDefinitionArn = analytics.taskDefinitionArn;
export const analyticsCommand = analytics.command;
export const ecsClusterName = connect.clusterName;
export const privateSubnetIds = pulumi.all(network.privateSubnetIds);
export const analyticsSecurityGroupId = network.group("analytics");
export const alarmTopicArn = observability.alarmTopicArn;
export const dashboardName = observability.dashboardName;
export const tunnelInstanceId = tunnel?.instanceId;
export const replicationSlot = PIPELINE_DEFAULTS.slotName;
export const glueDatabase = catalog.databaseName;
export const athenaWorkgroup = catalog.workgroupName;
export const analystRoleArn = catalog.analystRoleArn;
