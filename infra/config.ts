// Stack configuration: read once, validated with zod, every error naming its config key.
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { configKeys, crossKeyProblems, DEFAULTS, settingsSchema, type Settings } from "./config-schema";

export const PROJECT = "cdc-pipeline";

/** Everything the program needs from stack config, with defaults applied. */
export interface StackConfig {
  project: string;
  stack: string;
  /** AWS region (`aws:region`). */
  region: string;
  /** Fully destroyable stack: no protection, no final snapshot, force-destroy, short log retention. */
  ephemeral: boolean;
  tags: Record<string, string>;
  logRetentionDays: number;
  network: {
    vpcCidr: string;
    availabilityZoneCount: number;
    existing?: ExistingVpc;
    tunnelHost: boolean;
    /** CIDRs of Pulumi runners (inside or peered with the VPC). */
    deployerCidrs: string[];
  };
  database: {
    /** Major version, e.g. `17` (RDS picks and upgrades the minor version). */
    postgresVersion: string;
    instanceClass: string;
    allocatedStorageGb: number;
    maxAllocatedStorageGb: number;
    multiAz: boolean;
    backupRetentionDays: number;
    maxSlotWalKeepSizeMb: number;
    databaseName: string;
    existing?: ExistingDatabase;
    createCommerceTables: boolean;
  };
  kafka: {
    mode: "provisioned" | "serverless";
    version: string;
    brokerInstanceType: string;
    brokerCount: number;
    brokerVolumeGb: number;
    topicPartitions: number;
    topicReplicationFactor: number;
    topicRetentionHours: number;
  };
  connect: {
    desiredCount: number;
    minCount: number;
    maxCount: number;
    cpu: number;
    memory: number;
    cpuTargetPercent: number;
    certificateArn?: string;
    connectorsEnabled: boolean;
    /** The S3 sink's wall-clock rotation (`rotate.schedule.interval.ms`) in minutes; 0: off. */
    sinkRotateScheduleMinutes: number;
  };
  storage: {
    bucketName?: string;
    topicsDir: string;
    analyticsPrefix: string;
    rawInfrequentAccessDays: number;
    kms: boolean;
  };
  analytics: {
    schedule: string;
    timezone: string;
    cpu: number;
    memory: number;
    /** The SCD2 task's ephemeral storage (GiB): where the job stages the files it reads. */
    ephemeralStorageGiB: number;
  };
  alarms: {
    emails: string[];
    slotLagBytes: number;
    freeStorageBytes: number;
    kafkaDiskPercent: number;
  };
  endpoints: {
    /** false: create only AWS resources (first `up` of a tunnelled deployment). */
    inClusterResources: boolean;
    database?: { host: string; port: number };
    kafkaBootstrapServers?: string[];
    connectUrl?: string;
    databaseSslMode: "require" | "verify-ca" | "verify-full";
  };
}

export interface ExistingVpc {
  vpcId: string;
  privateSubnetIds: string[];
  privateRouteTableIds: string[];
  /** Where tasks reach AWS APIs over HTTPS (`existingVpcAwsApiCidrs`); undefined: the VPC's CIDR. */
  awsApiCidrs?: string[];
}

export interface ExistingDatabase {
  host: string;
  port: number;
  masterSecretArn: string;
  securityGroupId: string;
  instanceIdentifier?: string;
}

/** Thrown for invalid stack config; the message lists every problem, one line per key. */
export class StackConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration for stack "${stackName}":\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/**
 * Validate raw config (keys with the `cdc-pipeline:` prefix, plus `aws:region`) and apply defaults.
 * Pure: the program calls it once through `loadStackConfig`, tests call it directly too.
 */
export function parseStackConfig(raw: Record<string, string | undefined>, stack: string): StackConfig {
  const problems: string[] = [];
  const own: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith(`${PROJECT}:`) || value === undefined) continue;
    const short = key.slice(PROJECT.length + 1);
    if (!configKeys.includes(short)) {
      problems.push(`${key}: unknown key (see docs/deploy.md for the keys this stack reads)`);
      continue;
    }
    own[short] = value;
  }
  const region = raw["aws:region"];
  if (!region) {
    problems.push("aws:region: required (pulumi config set aws:region eu-west-1)");
  }
  const parsed = settingsSchema.safeParse(own, { reportInput: true });
  if (parsed.success) {
    problems.push(...crossKeyProblems(parsed.data).map(([key, message]) => `${PROJECT}:${key}: ${message}`));
  } else {
    problems.push(...parsed.error.issues.map(describeIssue));
  }
  if (problems.length > 0 || !parsed.success) {
    throw new StackConfigError(stack, problems);
  }
  return resolveDefaults(parsed.data, stack, region as string);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = `${PROJECT}:${issue.path.map(String).join(".")}`;
  const got = "input" in issue && issue.input !== undefined ? ` (got ${JSON.stringify(issue.input)})` : "";
  return `${key}: ${issue.message}${got}`;
}

function resolveDefaults(s: Settings, stack: string, region: string): StackConfig {
  const ephemeral = s.ephemeral ?? false;
  const azCount = s.availabilityZoneCount ?? DEFAULTS.availabilityZoneCount;
  const brokerCount = (s.kafkaBrokersPerAz ?? DEFAULTS.kafkaBrokersPerAz) * azCount;
  return {
    project: PROJECT,
    stack,
    region,
    ephemeral,
    tags: s.tags ?? {},
    logRetentionDays: s.logRetentionDays ?? (ephemeral ? 3 : 30),
    network: {
      vpcCidr: s.vpcCidr ?? "10.42.0.0/16",
      availabilityZoneCount: azCount,
      existing: s.existingVpcId
        ? {
            vpcId: s.existingVpcId,
            privateSubnetIds: s.existingPrivateSubnetIds ?? [],
            privateRouteTableIds: s.existingPrivateRouteTableIds ?? [],
            awsApiCidrs: s.existingVpcAwsApiCidrs,
          }
        : undefined,
      tunnelHost: s.tunnelHost ?? false,
      deployerCidrs: s.deployerCidrs ?? [],
    },
    database: {
      postgresVersion: s.postgresVersion ?? "17",
      instanceClass: s.rdsInstanceClass ?? "db.t4g.medium",
      allocatedStorageGb: s.rdsAllocatedStorageGb ?? DEFAULTS.rdsAllocatedStorageGb,
      maxAllocatedStorageGb: s.rdsMaxAllocatedStorageGb ?? DEFAULTS.rdsMaxAllocatedStorageGb,
      multiAz: s.rdsMultiAz ?? false,
      backupRetentionDays: s.rdsBackupRetentionDays ?? (ephemeral ? 1 : 7),
      maxSlotWalKeepSizeMb: s.maxSlotWalKeepSizeMb ?? 10240,
      databaseName: s.databaseName ?? "app",
      existing: s.existingDatabase,
      createCommerceTables: s.createCommerceTables ?? true,
    },
    kafka: {
      mode: s.kafkaMode ?? "provisioned",
      version: s.kafkaVersion ?? "3.9.x",
      brokerInstanceType: s.kafkaBrokerInstanceType ?? "kafka.t3.small",
      brokerCount,
      brokerVolumeGb: s.kafkaBrokerVolumeGb ?? 100,
      topicPartitions: s.topicPartitions ?? 3,
      topicReplicationFactor:
        s.topicReplicationFactor ?? (s.kafkaMode === "serverless" ? 3 : Math.min(3, brokerCount)),
      topicRetentionHours: s.topicRetentionHours ?? 168,
    },
    connect: {
      desiredCount: s.connectDesiredCount ?? DEFAULTS.connectDesiredCount,
      minCount: s.connectMinCount ?? DEFAULTS.connectMinCount,
      maxCount: s.connectMaxCount ?? DEFAULTS.connectMaxCount,
      cpu: s.connectCpu ?? DEFAULTS.connectCpu,
      memory: s.connectMemory ?? DEFAULTS.connectMemory,
      cpuTargetPercent: s.connectCpuTargetPercent ?? 60,
      certificateArn: s.connectCertificateArn,
      connectorsEnabled: s.connectorsEnabled ?? true,
      sinkRotateScheduleMinutes: s.sinkRotateScheduleMinutes ?? 10,
    },
    storage: {
      bucketName: s.bucketName,
      topicsDir: s.topicsDir ?? DEFAULTS.topicsDir,
      analyticsPrefix: s.analyticsPrefix ?? DEFAULTS.analyticsPrefix,
      rawInfrequentAccessDays: s.rawInfrequentAccessDays ?? 30,
      kms: s.storageKms ?? false,
    },
    analytics: {
      schedule: s.analyticsSchedule ?? "rate(1 hour)",
      timezone: s.analyticsScheduleTimezone ?? "UTC",
      cpu: s.analyticsCpu ?? DEFAULTS.analyticsCpu,
      memory: s.analyticsMemory ?? DEFAULTS.analyticsMemory,
      ephemeralStorageGiB: s.scd2EphemeralStorageGiB ?? 50,
    },
    alarms: {
      emails: s.alarmEmails ?? [],
      slotLagBytes: s.slotLagAlarmBytes ?? 1024 ** 3,
      freeStorageBytes: s.freeStorageAlarmBytes ?? 10 * 1024 ** 3,
      kafkaDiskPercent: s.kafkaDiskAlarmPercent ?? 80,
    },
    endpoints: {
      inClusterResources: s.inClusterResources ?? true,
      database: s.databaseEndpoint,
      kafkaBootstrapServers: s.kafkaBootstrapServers,
      connectUrl: s.connectUrl,
      databaseSslMode: s.databaseSslMode ?? "require",
    },
  };
}

/** Read this stack's config from the Pulumi runtime and validate it (call once, at program start). */
export function loadStackConfig(): StackConfig {
  const all = pulumi.runtime.allConfig();
  return parseStackConfig(all, pulumi.getStack());
}
