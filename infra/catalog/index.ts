// Catalog: the SCD2 tables in the Glue Data Catalog with Athena views, an Athena workgroup with its own
// encrypted, expiring results bucket, and an "analyst" role that can query but not write.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { sourceSetup, type TableDefinition } from "../../connectors/database";
import { physicalName, policyDocument } from "../lib";
import { queryResultsBucket, RESULTS_PREFIX } from "./results";
import { analystStatements, analystTrustPolicy } from "./analyst-policy";
import {
  athenaViews,
  FILE_SET_COLUMN,
  FILE_SETS,
  PRESTO_VIEW_EXPANDED_TEXT,
  PRESTO_VIEW_PARAMETERS,
  prestoViewText,
} from "../../common/catalog";
import { scd2CatalogColumns } from "./columns";

/**
 * What the SCD2 job keeps up to date after each run (analytics/src/catalog/): a column a source table
 * gained is appended to its Glue table and the views are written again over it. The stack creates these
 * from the table definitions and then leaves them to the job, so a deploy never takes back a column the
 * job added (docs/analytics-catalog.md, "Schema changes").
 */
export const JOB_MAINTAINED = {
  table: ["storageDescriptor.columns"],
  view: ["storageDescriptor.columns", "viewOriginalText"],
};

export interface CatalogArgs {
  /** AWS region (ARNs of the workgroup and the catalog). */
  region: string;
  /** The bucket holding the SCD2 output. */
  bucketName: pulumi.Input<string>;
  /** Its ARN. */
  bucketArn: pulumi.Input<string>;
  /** Key prefix of the SCD2 output (the job's `--output`). */
  analyticsPrefix: string;
  /** The bucket's customer-managed key, when it has one; query results use it too. Defaults to none (SSE-S3). */
  bucketKmsKeyArn?: pulumi.Input<string>;
  /** The captured tables. Defaults to the standard source setup's (connectors/database). */
  tables?: readonly TableDefinition[];
  /** Glue database name (letters, digits, `_`). Defaults to `cdc_<stack>`. */
  databaseName?: string;
  /** Days query results are kept. Defaults to 7. */
  resultsExpirationDays?: number;
  /** Bytes one query may scan before Athena cancels it. Defaults to 100 GiB. */
  bytesScannedCutoffPerQuery?: number;
  /** Principals (ARNs) allowed to assume the analyst role. Defaults to this account's root (its IAM policies decide). */
  analystPrincipalArns?: pulumi.Input<string>[];
  /**
   * Ephemeral stack: the results bucket and the workgroup are deleted with their contents; otherwise the
   * results bucket is protected and versioned, as the policy pack requires of every bucket. Defaults to false.
   */
  ephemeral?: boolean;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

export class Catalog extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;
  readonly workgroupName: pulumi.Output<string>;
  readonly resultsBucketName: pulumi.Output<string>;
  readonly analystRoleArn: pulumi.Output<string>;

  constructor(name: string, args: CatalogArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:catalog:Catalog", name, {}, opts);
    const { tables, databaseName, resultsExpirationDays, bytesScannedCutoffPerQuery, ephemeral, tags } = {
      tables: sourceSetup().tables,
      databaseName: `cdc_${pulumi.getStack()}`.toLowerCase().replace(/[^a-z0-9_]/g, "_"),
      resultsExpirationDays: 7,
      bytesScannedCutoffPerQuery: 100 * 1024 ** 3,
      ephemeral: false,
      tags: {},
      ...args,
    };
    const prefix = args.analyticsPrefix.replace(/\/+$/, "");

    const database = new aws.glue.CatalogDatabase(
      `${name}-database`,
      { name: databaseName, description: "SCD2 history of the captured tables (cdc-pipeline)", tags },
      { parent: this },
    );
    this.databaseName = database.name;

    for (const table of tables) {
      const columns = scd2CatalogColumns(table);
      const glueColumns = columns.map((c) => ({ name: c.name, type: c.glueType }));
      const location = pulumi.interpolate`s3://${args.bucketName}/${prefix}/${table.name}/`;
      // Partition projection over the two folders: no partitions to register, and a query on
      // file_set = 'current' reads one file instead of the whole history.
      const base = new aws.glue.CatalogTable(
        `${name}-${table.name}`,
        {
          databaseName: database.name,
          name: table.name,
          description: `SCD2 history of ${table.qualifiedName}: one row per version, written by cdc-scd2`,
          tableType: "EXTERNAL_TABLE",
          parameters: {
            EXTERNAL: "TRUE",
            classification: "parquet",
            "parquet.compression": "SNAPPY",
            "projection.enabled": "true",
            [`projection.${FILE_SET_COLUMN}.type`]: "enum",
            [`projection.${FILE_SET_COLUMN}.values`]: FILE_SETS.join(","),
            "storage.location.template": pulumi.interpolate`${location}\${${FILE_SET_COLUMN}}/`,
          },
          partitionKeys: [{ name: FILE_SET_COLUMN, type: "string", comment: "history or current" }],
          storageDescriptor: {
            location,
            inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            serDeInfo: {
              serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            },
            columns: glueColumns,
          },
        },
        { parent: this, ignoreChanges: JOB_MAINTAINED.table },
      );
      for (const view of athenaViews(databaseName, table.name, columns)) {
        new aws.glue.CatalogTable(
          `${name}-${view.name}`,
          {
            databaseName: database.name,
            name: view.name,
            description: view.description,
            tableType: "VIRTUAL_VIEW",
            parameters: { ...PRESTO_VIEW_PARAMETERS },
            viewOriginalText: prestoViewText(databaseName, view, columns),
            viewExpandedText: PRESTO_VIEW_EXPANDED_TEXT,
            storageDescriptor: { columns: glueColumns },
          },
          { parent: this, dependsOn: [base], ignoreChanges: JOB_MAINTAINED.view },
        );
      }
    }

    const results = queryResultsBucket(
      `${name}-results`,
      { expirationDays: resultsExpirationDays, kmsKeyArn: args.bucketKmsKeyArn, ephemeral, tags },
      this,
    );
    this.resultsBucketName = results.bucket;

    const workgroup = new aws.athena.Workgroup(
      `${name}-workgroup`,
      {
        name: physicalName([pulumi.getProject(), pulumi.getStack()], 64),
        description: "Queries over the SCD2 history (cdc-pipeline)",
        forceDestroy: ephemeral,
        configuration: {
          // Users cannot send results elsewhere or unencrypted.
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          bytesScannedCutoffPerQuery,
          engineVersion: { selectedEngineVersion: "Athena engine version 3" },
          resultConfiguration: {
            outputLocation: pulumi.interpolate`s3://${results.bucket}/${RESULTS_PREFIX}/`,
            encryptionConfiguration: args.bucketKmsKeyArn
              ? { encryptionOption: "SSE_KMS", kmsKeyArn: args.bucketKmsKeyArn }
              : { encryptionOption: "SSE_S3" },
          },
        },
        tags,
      },
      { parent: this },
    );
    this.workgroupName = workgroup.name;

    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const analyst = new aws.iam.Role(
      `${name}-analyst`,
      {
        description: "Queries the SCD2 history with Athena; cannot write it",
        assumeRolePolicy: pulumi
          .all(args.analystPrincipalArns ?? [pulumi.interpolate`arn:aws:iam::${accountId}:root`])
          .apply((principals) => analystTrustPolicy(principals)),
        tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-analyst`,
      {
        role: analyst.id,
        policy: policyDocument(
          pulumi
            .all([accountId, workgroup.name, args.bucketArn, results.arn, args.bucketKmsKeyArn])
            .apply(([account, workgroupName, bucketArn, resultsBucketArn, kmsKeyArn]) =>
              analystStatements({
                region: args.region,
                accountId: account,
                workgroupName,
                databaseName,
                bucketArn,
                analyticsPrefix: prefix,
                resultsBucketArn,
                resultsPrefix: RESULTS_PREFIX,
                kmsKeyArn,
              }),
            ),
        ),
      },
      { parent: this },
    );
    this.analystRoleArn = analyst.arn;

    this.registerOutputs({
      databaseName: this.databaseName,
      workgroupName: this.workgroupName,
      resultsBucketName: this.resultsBucketName,
      analystRoleArn: this.analystRoleArn,
    });
  }
}
