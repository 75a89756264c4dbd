// Database: RDS PostgreSQL with logical replication on from the first boot, or an existing
// database. The CDC objects inside it are in cdc-objects.ts.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ExistingDatabase } from "./config";
import { physicalName } from "./lib";

export interface DatabaseArgs {
  /** Private subnets for the DB subnet group. */
  subnetIds: pulumi.Input<string>[];
  /** Security group of the instance. */
  securityGroupId: pulumi.Input<string>;
  /**
   * RDS PostgreSQL major version; RDS picks the minor version and applies minor upgrades, major
   * upgrades are never automatic. The parameter group family follows it. Defaults to "17".
   */
  majorVersion?: string;
  /** Instance class. Defaults to "db.t4g.medium". */
  instanceClass?: pulumi.Input<string>;
  /** Initial storage (GiB). Defaults to 50. */
  allocatedStorageGb?: pulumi.Input<number>;
  /** Storage autoscaling ceiling (GiB). Defaults to 200. */
  maxAllocatedStorageGb?: pulumi.Input<number>;
  /** Standby in a second AZ. Defaults to false. */
  multiAz?: pulumi.Input<boolean>;
  /** Days of automated backups. Defaults to 7. */
  backupRetentionDays?: pulumi.Input<number>;
  /** `max_slot_wal_keep_size` (MB): the most WAL a stalled slot may retain. Defaults to 10240. */
  maxSlotWalKeepSizeMb?: number;
  /** Name of the database to create. Defaults to "app". */
  databaseName?: string;
  /** Ephemeral stack: no deletion protection, no final snapshot. Defaults to false. */
  ephemeral?: boolean;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

/**
 * Parameters the CDC path needs. `rds.logical_replication` is static (needs a reboot): the group
 * is attached when the instance is created, so the first boot already has it. Changing it on an
 * existing instance needs `aws rds reboot-db-instance` (docs/deploy.md).
 */
export function replicationParameters(
  maxSlotWalKeepSizeMb: number,
): { name: string; value: string; applyMethod: string }[] {
  return [
    { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
    { name: "max_slot_wal_keep_size", value: String(maxSlotWalKeepSizeMb), applyMethod: "immediate" },
    { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
    // Debezium heartbeats keep the slot moving on quiet databases; this bounds idle senders.
    { name: "wal_sender_timeout", value: "60000", applyMethod: "immediate" },
  ];
}

/** The parameter group family of a PostgreSQL major version (`17` → `postgres17`). */
export function parameterFamily(majorVersion: string): string {
  if (!/^\d+$/.test(majorVersion)) throw new Error(`not a PostgreSQL major version: ${majorVersion}`);
  return `postgres${majorVersion}`;
}

/** Where and as whom Pulumi (and Connect) reach the database. */
export interface DatabaseEndpoint {
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  databaseName: pulumi.Output<string>;
  /** Secrets Manager secret holding the master `username`/`password` (JSON). */
  masterSecretArn: pulumi.Output<string>;
  /** Instance identifier for CloudWatch metrics (RDS only). */
  instanceIdentifier?: pulumi.Output<string>;
}

export class Database extends pulumi.ComponentResource implements DatabaseEndpoint {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly databaseName: pulumi.Output<string>;
  readonly masterSecretArn: pulumi.Output<string>;
  readonly instanceIdentifier: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:database:Database", name, {}, opts);
    const a = {
      majorVersion: "17",
      instanceClass: "db.t4g.medium",
      allocatedStorageGb: 50,
      maxAllocatedStorageGb: 200,
      multiAz: false,
      backupRetentionDays: 7,
      maxSlotWalKeepSizeMb: 10240,
      databaseName: "app",
      ephemeral: false,
      tags: {},
      ...args,
    };
    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: a.subnetIds, tags: a.tags },
      { parent: this },
    );
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        family: parameterFamily(a.majorVersion),
        description: "CDC: logical replication, bounded slot WAL, TLS only",
        parameters: replicationParameters(a.maxSlotWalKeepSizeMb),
        tags: a.tags,
      },
      { parent: this },
    );
    const identifier = physicalName([pulumi.getProject(), pulumi.getStack()], 63);
    const instance = new aws.rds.Instance(
      `${name}-instance`,
      {
        identifier,
        engine: "postgres",
        // The major version only: RDS reports the minor it runs as engineVersionActual, and the
        // provider treats "17" as matching "17.x", so a minor upgrade by AWS is no diff.
        engineVersion: a.majorVersion,
        allowMajorVersionUpgrade: false,
        instanceClass: a.instanceClass,
        allocatedStorage: a.allocatedStorageGb,
        maxAllocatedStorage: a.maxAllocatedStorageGb,
        storageType: "gp3",
        storageEncrypted: true,
        dbName: a.databaseName,
        username: "cdc_admin",
        // RDS generates the master password and keeps it in Secrets Manager: it never enters the state.
        manageMasterUserPassword: true,
        parameterGroupName: parameterGroup.name,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [a.securityGroupId],
        publiclyAccessible: false,
        multiAz: a.multiAz,
        backupRetentionPeriod: a.backupRetentionDays,
        copyTagsToSnapshot: true,
        deletionProtection: !a.ephemeral,
        skipFinalSnapshot: a.ephemeral,
        finalSnapshotIdentifier: a.ephemeral ? undefined : `${identifier}-final`,
        deleteAutomatedBackups: a.ephemeral,
        // Parameter changes after creation take effect at once where they can (static ones at reboot).
        applyImmediately: true,
        autoMinorVersionUpgrade: true,
        enabledCloudwatchLogsExports: ["postgresql"],
        performanceInsightsEnabled: true,
        tags: a.tags,
      },
      { parent: this, protect: !a.ephemeral },
    );
    this.host = instance.address;
    this.port = instance.port;
    this.databaseName = pulumi.output(a.databaseName);
    this.instanceIdentifier = instance.identifier;
    this.masterSecretArn = instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn) throw new Error(`RDS instance ${identifier} reports no managed master user secret`);
      return arn;
    });
    this.registerOutputs({ host: this.host, port: this.port, masterSecretArn: this.masterSecretArn });
  }
}

/** An existing database used instead of a new RDS instance (no component: nothing is created). */
export function existingDatabaseEndpoint(existing: ExistingDatabase, databaseName: string): DatabaseEndpoint {
  return {
    host: pulumi.output(existing.host),
    port: pulumi.output(existing.port),
    databaseName: pulumi.output(databaseName),
    masterSecretArn: pulumi.output(existing.masterSecretArn),
    instanceIdentifier: existing.instanceIdentifier ? pulumi.output(existing.instanceIdentifier) : undefined,
  };
}
