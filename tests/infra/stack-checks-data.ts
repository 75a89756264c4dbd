/* eslint-disable @typescript-eslint/no-explicit-any -- mock inputs are untyped JSON-like data */
// Stack checks for the data stores: RDS, the bucket, MSK and its topics, the CDC objects in the
// database, and the providers Pulumi reaches them with.
import { expect, it } from "vitest";
import { sourceSetup } from "../../connectors/database";
import { ddlChecks } from "../../infra/cdc-objects";
import { CA_BUNDLE_ENV } from "../../infra/database-tls";
import { ACCOUNT, REGION, SECRET_VALUES, isSecret, json, reveal } from "./harness";
import { adminConnection, sourceDatabase, subnetIds, type StackContext } from "./stack-scenario";

export function dataChecks({ s, m, run, input }: StackContext): void {
  if (s.rds) {
    const rds = s.rds;
    it("runs RDS private, encrypted, with an RDS-managed password and logical replication", () => {
      const db = input("aws:rds/instance:Instance", "database-instance");
      expect(db).toMatchObject({
        identifier: `cdc-pipeline-${s.stack}`,
        engine: "postgres",
        // The major version only: minor upgrades are AWS's, major ones never automatic.
        engineVersion: "17",
        allowMajorVersionUpgrade: false,
        autoMinorVersionUpgrade: true,
        instanceClass: rds.instanceClass,
        allocatedStorage: rds.allocatedStorage,
        maxAllocatedStorage: rds.maxAllocatedStorage,
        storageType: "gp3",
        storageEncrypted: true,
        dbName: "app",
        username: "cdc_admin",
        manageMasterUserPassword: true,
        publiclyAccessible: false,
        multiAz: rds.multiAz,
        backupRetentionPeriod: rds.backupRetentionPeriod,
        deletionProtection: !s.ephemeral,
        skipFinalSnapshot: s.ephemeral,
        deleteAutomatedBackups: s.ephemeral,
        applyImmediately: true,
        parameterGroupName: "database-params",
        dbSubnetGroupName: "database-subnets",
        vpcSecurityGroupIds: ["network-database-id"],
      });
      expect(db.password).toBeUndefined();
      expect(db.finalSnapshotIdentifier).toBe(s.ephemeral ? undefined : `cdc-pipeline-${s.stack}-final`);
      expect(input("aws:rds/subnetGroup:SubnetGroup", "database-subnets").subnetIds).toEqual(subnetIds(s));
      const params = input("aws:rds/parameterGroup:ParameterGroup", "database-params");
      expect(params.family).toBe("postgres17");
      expect(params.parameters).toEqual([
        { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
        {
          name: "max_slot_wal_keep_size",
          value: String(rds.maxSlotWalKeepSizeMb),
          applyMethod: "immediate",
        },
        { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
        { name: "wal_sender_timeout", value: "60000", applyMethod: "immediate" },
      ]);
    });
  }

  it("blocks public access to the bucket, requires TLS, encrypts, and versions by stack kind", () => {
    expect(
      input("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "storage-public-access"),
    ).toMatchObject({
      bucket: "storage-bucket-id",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(input("aws:s3/bucket:Bucket", "storage-bucket")).toMatchObject({
      forceDestroy: s.ephemeral,
      bucketPrefix: s.bucketPrefix,
    });
    const statements = json<{ Statement: unknown[] }>(
      input("aws:s3/bucketPolicy:BucketPolicy", "storage-policy").policy,
    ).Statement;
    const bucketResources = [m.bucketArn, `${m.bucketArn}/*`];
    expect(statements).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: bucketResources,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyOutdatedTls",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: bucketResources,
        Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
      },
    ]);
    const encryption = input(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "storage-encryption",
    ).rules[0].applyServerSideEncryptionByDefault;
    expect(encryption).toEqual(
      s.kms ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: m.kmsKeyArn } : { sseAlgorithm: "AES256" },
    );
    const keys = run().ofType("aws:kms/key:Key");
    expect(keys.map((k) => [k.inputs.enableKeyRotation, k.inputs.deletionWindowInDays])).toEqual(
      s.kms ? [[true, s.ephemeral ? 7 : 30]] : [],
    );
    const versioning = run()
      .ofType("aws:s3/bucketVersioning:BucketVersioning")
      .filter((v) => v.name === "storage-versioning");
    expect(versioning.map((v) => v.inputs.versioningConfiguration)).toEqual(
      s.ephemeral ? [] : [{ status: "Enabled" }],
    );
    const rawDays = Number(s.config["cdc-pipeline:rawInfrequentAccessDays"] ?? 30);
    expect(
      input("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "storage-lifecycle").rules,
    ).toEqual([
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
      {
        id: "raw-change-files-to-infrequent-access",
        status: "Enabled",
        filter: { prefix: "cdc_data/" },
        transitions: [{ days: rawDays, storageClass: "STANDARD_IA" }],
      },
      ...(s.ephemeral
        ? []
        : [
            {
              id: "expire-noncurrent-versions",
              status: "Enabled",
              filter: {},
              noncurrentVersionExpiration: { noncurrentDays: 30 },
            },
          ]),
    ]);
  });

  it("runs MSK with IAM auth and TLS only, encrypted, without automatic topic creation", () => {
    if (s.kafka.brokers === 0) {
      const serverless = input("aws:msk/serverlessCluster:ServerlessCluster", "kafka-cluster");
      expect(serverless.clusterName).toBe(`cdc-pipeline-${s.stack}`);
      expect(serverless.clientAuthentication).toEqual({ sasl: { iam: { enabled: true } } });
      expect(serverless.vpcConfigs).toEqual([
        { subnetIds: subnetIds(s), securityGroupIds: ["network-kafka-id"] },
      ]);
      return;
    }
    const cluster = input("aws:msk/cluster:Cluster", "kafka-cluster");
    expect(cluster).toMatchObject({
      clusterName: `cdc-pipeline-${s.stack}`,
      kafkaVersion: "3.9.x",
      numberOfBrokerNodes: s.kafka.brokers,
      clientAuthentication: { sasl: { iam: true }, unauthenticated: false },
      encryptionInfo: { encryptionInTransit: { clientBroker: "TLS", inCluster: true } },
      configurationInfo: {
        arn: `arn:aws:kafka:${REGION}:${ACCOUNT}:configuration/kafka-config/1`,
        revision: 1,
      },
      enhancedMonitoring: "PER_BROKER",
    });
    expect(cluster.encryptionInfo.encryptionAtRestKmsKeyArn).toBeUndefined();
    expect(cluster.brokerNodeGroupInfo).toEqual({
      instanceType: s.kafka.instanceType,
      clientSubnets: subnetIds(s),
      securityGroups: ["network-kafka-id"],
      storageInfo: { ebsStorageInfo: { volumeSize: s.kafka.volumeGb } },
      connectivityInfo: { publicAccess: { type: "DISABLED" } },
    });
    expect(cluster.loggingInfo).toEqual({
      brokerLogs: {
        cloudwatchLogs: { enabled: true, logGroup: `/cdc/cdc-pipeline/${s.stack}/msk-brokers` },
      },
    });
    const config = input("aws:msk/configuration:Configuration", "kafka-config");
    expect(config.kafkaVersions).toEqual(["3.9.x"]);
    expect(config.serverProperties.split("\n")).toEqual([
      "auto.create.topics.enable=false",
      `default.replication.factor=${s.kafka.replicationFactor}`,
      `min.insync.replicas=${Math.max(1, Math.min(2, s.kafka.replicationFactor - 1))}`,
      "unclean.leader.election.enable=false",
      "delete.topic.enable=true",
    ]);
  });

  it("keeps the CDC password in a Secrets Manager secret, deleted at once only on ephemeral stacks", () => {
    const secret = input("aws:secretsmanager/secret:Secret", "cdc-credentials-secret");
    expect([secret.namePrefix, secret.recoveryWindowInDays]).toEqual([
      `cdc-pipeline/${s.stack}/cdc_connector-`,
      s.ephemeral ? 0 : 7,
    ]);
    const value = input("aws:secretsmanager/secretVersion:SecretVersion", "cdc-credentials-secret-value");
    expect(value.secretId).toBe("cdc-credentials-secret-id");
    expect(isSecret(value.secretString)).toBe(true);
    expect(JSON.parse(String(reveal(value.secretString)))).toEqual({
      username: "cdc_connector",
      password: SECRET_VALUES.randomPassword,
    });
  });

  if (!s.endpoints) return;
  const endpoints = s.endpoints;
  const database = sourceDatabase(s).name;

  it("points the postgresql and kafka providers at the configured endpoints", () => {
    const pg = input("pulumi:providers:postgresql", "postgres");
    expect([pg.host, Number(pg.port), pg.sslmode, pg.sslrootcert, pg.superuser]).toEqual([
      endpoints.databaseHost,
      endpoints.databasePort,
      endpoints.sslMode ?? "require",
      endpoints.sslMode?.startsWith("verify") ? process.env[CA_BUNDLE_ENV] : undefined,
      "false",
    ]);
    expect(isSecret(pg.password)).toBe(true);
    expect(reveal(pg.password)).toBe(SECRET_VALUES.masterPassword);
    const kafka = input("pulumi:providers:kafka", "kafka");
    expect(JSON.parse(String(kafka.bootstrapServers))).toEqual(
      endpoints.kafkaBootstrapServers ?? m.bootstrapBrokers.split(","),
    );
    expect([kafka.tlsEnabled, kafka.saslMechanism, kafka.saslAwsRegion]).toEqual(["true", "aws-iam", REGION]);
    for (const topic of run().ofType("kafka:index/topic:Topic"))
      expect(topic.provider).toMatch(/::kafka::kafka-id$/);
    for (const r of run().resources.filter((x) => x.type.startsWith("postgresql:"))) {
      expect(r.provider).toMatch(/::postgres::postgres-id$/);
    }
  });

  it("creates the CDC role, grants, publication and pgoutput slot from connectors/database", () => {
    const role = input("postgresql:index/role:Role", "cdc-objects-role");
    expect([role.name, role.login, role.replication, role.roles]).toEqual([
      "cdc_connector",
      true,
      false,
      ["rds_replication"],
    ]);
    expect(reveal(role.password)).toBe(SECRET_VALUES.randomPassword);
    const grants = run()
      .ofType("postgresql:index/grant:Grant")
      .map((g) => [
        g.inputs.database,
        g.inputs.objectType,
        g.inputs.schema,
        g.inputs.objects,
        g.inputs.privileges,
      ])
      // Registered once the DDL resource is known: in no fixed order.
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(grants).toEqual([
      [database, "schema", "commerce", [], ["USAGE"]],
      [database, "table", "commerce", ["cdc_heartbeat"], ["INSERT", "SELECT", "UPDATE"]],
      [database, "table", "commerce", ["cdc_signal"], ["INSERT", "SELECT"]],
      [database, "table", "commerce", ["products", "users"], ["SELECT"]],
    ]);
    expect(input("postgresql:index/publication:Publication", "cdc-objects-publication")).toMatchObject({
      name: "cdc_publication",
      database,
      tables: ["commerce.products", "commerce.users", "commerce.cdc_heartbeat", "commerce.cdc_signal"],
    });
    expect(input("postgresql:index/replicationSlot:ReplicationSlot", "cdc-objects-slot")).toMatchObject({
      name: "cdc_slot",
      database,
      plugin: "pgoutput",
    });
    const ddl = run().one("pulumi-nodejs:dynamic/cdc:SqlStatements", "cdc-objects-ddl").inputs as Record<
      string,
      any
    >;
    expect(isSecret(ddl.connection)).toBe(true);
    expect(reveal(ddl.connection)).toEqual(adminConnection(s));
    // The checks run before anything is created: every other CDC object waits for the DDL resource.
    expect(ddl.checks).toEqual(ddlChecks(sourceSetup({ target: "rds" }), s.createCommerceTables));
    const ddlUrn = run().one("pulumi-nodejs:dynamic/cdc:SqlStatements", "cdc-objects-ddl").urn;
    const slot = run().one("postgresql:index/replicationSlot:ReplicationSlot", "cdc-objects-slot");
    const publication = run().one("postgresql:index/publication:Publication", "cdc-objects-publication");
    expect(slot.dependencies).toEqual([publication.urn]);
    for (const r of run().resources.filter((x) => x.type.startsWith("postgresql:index/") && x !== slot)) {
      expect(r.dependencies, r.name).toContain(ddlUrn);
    }
    const created = (ddl.statements as string[]).map((sql) => sql.split("\n")[0]);
    expect(created).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "commerce"',
      ...(s.createCommerceTables
        ? [
            'CREATE TABLE IF NOT EXISTS "commerce"."products" (',
            'CREATE TABLE IF NOT EXISTS "commerce"."users" (',
          ]
        : []),
      'CREATE TABLE IF NOT EXISTS "commerce"."cdc_heartbeat" (',
      'CREATE TABLE IF NOT EXISTS "commerce"."cdc_signal" (',
      ...(s.createCommerceTables
        ? [
            'ALTER TABLE "commerce"."products" REPLICA IDENTITY DEFAULT',
            'ALTER TABLE "commerce"."users" REPLICA IDENTITY DEFAULT',
          ]
        : []),
    ]);
  });

  it("declares every topic with its partitions, replication factor and retention", () => {
    const topics = run()
      .ofType("kafka:index/topic:Topic")
      .map((t) => [t.inputs.name, t.inputs.partitions, t.inputs.replicationFactor, t.inputs.config]);
    const retention = {
      "cleanup.policy": "delete",
      "retention.ms": String(s.kafka.retentionHours * 3_600_000),
    };
    const rf = s.kafka.replicationFactor;
    expect(topics.sort()).toEqual(
      [
        ["cdc.commerce.products", s.kafka.partitions, rf, retention],
        ["cdc.commerce.users", s.kafka.partitions, rf, retention],
        ["__debezium-heartbeat.cdc", 1, rf, { "cleanup.policy": "delete", "retention.ms": "86400000" }],
        ["cdc.commerce.cdc_signal", 1, rf, { "cleanup.policy": "delete", "retention.ms": "86400000" }],
        [`cdc-connect-${s.stack}-configs`, 1, rf, { "cleanup.policy": "compact" }],
        [`cdc-connect-${s.stack}-offsets`, 25, rf, { "cleanup.policy": "compact" }],
        [`cdc-connect-${s.stack}-status`, 5, rf, { "cleanup.policy": "compact" }],
      ].sort(),
    );
  });
}
