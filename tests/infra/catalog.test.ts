/**
 * The catalog under Pulumi mocks (the dev stack, infra/index.ts), held to a real job run: each Glue
 * table's columns equal the schema of the SCD2 files the job wrote for the same table (DESCRIBE, and
 * the Parquet types Athena reads), the Athena views select them, the workgroup writes encrypted,
 * expiring results, and the analyst role's policy allows the Athena query path and denies writes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { duckQuery } from "../../local/bucket";
import { glueTypeOf } from "../../common/catalog";
import { captureAndBuild, CAPTURED, shortName, type CapturedRun } from "../analytics/helpers/captured-run";
import { ACCOUNT, readStackFile, REGION, runStack, type StackRun } from "./harness";
import { allowed, type PolicyDocument } from "./iam-evaluate";

const TABLE = "aws:glue/catalogTable:CatalogTable";
let stack: StackRun;
let captured: CapturedRun;

beforeAll(async () => {
  captured = await captureAndBuild({ phases: 1, phaseMs: 800, rate: 40, seed: 20_261_207 });
  stack = await runStack("dev", readStackFile("dev"));
}, 240_000);
afterAll(async () => captured?.close());

const inputs = (type: string, name: string) => stack.one(type, name).inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The Hive type Athena's Parquet reader maps a column to, from the file's own Parquet schema. */
function athenaTypeOfParquet(c: Record<string, unknown>): string {
  if (c.converted_type === "DECIMAL") return `decimal(${String(c.precision)},${String(c.scale)})`;
  const key = `${String(c.type)}/${String(c.converted_type)}`;
  const types: Record<string, string> = {
    "BOOLEAN/null": "boolean",
    "INT32/null": "int",
    "INT32/INT_32": "int",
    "INT32/DATE": "date",
    "INT64/null": "bigint",
    "INT64/INT_64": "bigint",
    "INT64/TIMESTAMP_MICROS": "timestamp",
    "DOUBLE/null": "double",
    "BYTE_ARRAY/UTF8": "string",
  };
  if (types[key] === undefined) throw new Error(`no Athena type known for Parquet ${key}`);
  return types[key];
}

describe.each(CAPTURED.map(shortName))("the Glue table %s", (name) => {
  const files = () => `'${captured.scd2Dir}/${name}/*/*.parquet'`;

  it("has the columns of the SCD2 files the job wrote, in their order, with their types", async () => {
    const described = await duckQuery(`DESCRIBE SELECT * FROM read_parquet(${files()})`);
    const fromFiles = described.map((c) => ({
      name: String(c.column_name).toLowerCase(),
      type: glueTypeOf(String(c.column_type)),
    }));
    expect(fromFiles.map((c) => c.name)).toContain("effective_from");
    expect(inputs(TABLE, `catalog-${name}`).storageDescriptor.columns).toEqual(fromFiles);
  });

  it("declares for each column the type Athena reads from the files' Parquet schema", async () => {
    const schema = await duckQuery(
      `SELECT DISTINCT name, type, converted_type, precision, scale FROM parquet_schema(${files()}) WHERE name <> 'duckdb_schema'`,
    );
    const fromParquet = Object.fromEntries(
      schema.map((c) => [String(c.name).toLowerCase(), athenaTypeOfParquet(c)]),
    );
    const declared = Object.fromEntries(
      (inputs(TABLE, `catalog-${name}`).storageDescriptor.columns as { name: string; type: string }[]).map(
        (c) => [c.name, c.type],
      ),
    );
    expect(declared).toEqual(fromParquet);
  });

  it("leaves the columns and the views' text to the SCD2 job once created (it adds the columns the files gain)", () => {
    expect(stack.one(TABLE, `catalog-${name}`).ignoreChanges).toEqual(["storageDescriptor.columns"]);
    for (const kind of ["current", "history"])
      expect(stack.one(TABLE, `catalog-${name}_${kind}`).ignoreChanges).toEqual([
        "storageDescriptor.columns",
        "viewOriginalText",
      ]);
  });

  it("projects the partition file_set over the history and current folders", () => {
    const table = inputs(TABLE, `catalog-${name}`);
    const root = `s3://cdc-pipeline-dev-4f2a9c/analytics/${name}/`;
    expect(table.databaseName).toBe("cdc_dev");
    expect(table.storageDescriptor.location).toBe(root);
    expect(table.partitionKeys).toEqual([
      { name: "file_set", type: "string", comment: "history or current" },
    ]);
    expect(table.parameters).toEqual({
      EXTERNAL: "TRUE",
      classification: "parquet",
      "parquet.compression": "SNAPPY",
      "projection.enabled": "true",
      "projection.file_set.type": "enum",
      "projection.file_set.values": "history,current",
      "storage.location.template": `${root}\${file_set}/`,
    });
    expect(table.storageDescriptor.serDeInfo.serializationLibrary).toBe(
      "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    );
  });

  it.each(["current", "history"])("has the Athena view %s_%s over the table, with its columns", (kind) => {
    const table = inputs(TABLE, `catalog-${name}`);
    const view = inputs(TABLE, `catalog-${name}_${kind}`);
    expect([view.name, view.tableType, view.parameters]).toEqual([
      `${name}_${kind}`,
      "VIRTUAL_VIEW",
      { presto_view: "true", comment: "Presto View" },
    ]);
    const match = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.viewOriginalText as string);
    const json = JSON.parse(Buffer.from(match![1]!, "base64").toString()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const columns = table.storageDescriptor.columns as { name: string }[];
    const select = columns.map((c) => `"${c.name}"`).join(", ");
    expect(json.originalSql).toBe(
      `SELECT ${select} FROM "cdc_dev"."${name}"${kind === "current" ? " WHERE file_set = 'current'" : ""}`,
    );
    expect([json.catalog, json.schema]).toEqual(["awsdatacatalog", "cdc_dev"]);
    expect(json.columns.map((c: { name: string }) => c.name)).toEqual(columns.map((c) => c.name));
    expect(view.storageDescriptor.columns).toEqual(columns);
  });
});

describe("the Athena workgroup and its results", () => {
  it("enforces encrypted results under the results bucket's expiring prefix, engine 3, a scan cutoff", () => {
    const workgroup = inputs("aws:athena/workgroup:Workgroup", "catalog-workgroup");
    const bucket = inputs("aws:s3/bucket:Bucket", "catalog-results");
    expect(workgroup.name).toBe("cdc-pipeline-dev");
    expect(workgroup.configuration).toEqual({
      enforceWorkgroupConfiguration: true,
      publishCloudwatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: 100 * 1024 ** 3,
      engineVersion: { selectedEngineVersion: "Athena engine version 3" },
      resultConfiguration: {
        outputLocation: `s3://${String(bucket.bucketPrefix)}4f2a9c/athena-results/`,
        encryptionConfiguration: { encryptionOption: "SSE_S3" },
      },
    });
    // dev is long-lived: the bucket is protected and versioned (the policy pack's rules for every bucket).
    expect([bucket.forceDestroy, stack.one("aws:s3/bucket:Bucket", "catalog-results").protect]).toEqual([
      false,
      true,
    ]);
    expect(
      inputs("aws:s3/bucketVersioning:BucketVersioning", "catalog-results-versioning")
        .versioningConfiguration,
    ).toEqual({ status: "Enabled" });
    const tls = JSON.parse(
      inputs("aws:s3/bucketPolicy:BucketPolicy", "catalog-results-policy").policy as string,
    );
    expect(tls.Statement[0]).toMatchObject({
      Effect: "Deny",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(
      inputs("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "catalog-results-lifecycle")
        .rules,
    ).toEqual([
      {
        id: "expire-query-results",
        status: "Enabled",
        filter: { prefix: "athena-results/" },
        expiration: { days: 7 },
        noncurrentVersionExpiration: { noncurrentDays: 7 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ]);
    expect(
      inputs(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "catalog-results-encryption",
      ).rules,
    ).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    expect(
      inputs("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "catalog-results-public-access"),
    ).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });

  it("exports the database, the workgroup and the analyst role", () => {
    expect([stack.outputs.glueDatabase, stack.outputs.athenaWorkgroup, stack.outputs.analystRoleArn]).toEqual(
      ["cdc_dev", "cdc-pipeline-dev", `arn:aws:iam::${ACCOUNT}:role/catalog-analyst`],
    );
  });
});

describe("the analyst role", () => {
  const policy = () =>
    JSON.parse(inputs("aws:iam/rolePolicy:RolePolicy", "catalog-analyst").policy as string) as PolicyDocument;
  const data = "arn:aws:s3:::cdc-pipeline-dev-4f2a9c";
  const results = () =>
    `arn:aws:s3:::${String(inputs("aws:s3/bucket:Bucket", "catalog-results").bucketPrefix)}4f2a9c`;
  const workgroup = `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/cdc-pipeline-dev`;
  const glue = (r: string) => `arn:aws:glue:${REGION}:${ACCOUNT}:${r}`;

  it("can be assumed by the account's principals", () => {
    expect(JSON.parse(inputs("aws:iam/role:Role", "catalog-analyst").assumeRolePolicy as string)).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:root`] }, Action: "sts:AssumeRole" },
      ],
    });
  });

  it.each([
    ["athena:StartQueryExecution", workgroup, {}],
    ["athena:GetQueryExecution", workgroup, {}],
    ["athena:GetQueryResults", workgroup, {}],
    ["athena:StopQueryExecution", workgroup, {}],
    ["athena:GetWorkGroup", workgroup, {}],
    ["glue:GetDatabase", glue("database/cdc_dev"), {}],
    ["glue:GetTable", glue("table/cdc_dev/products_current"), {}],
    ["glue:GetTables", glue("catalog"), {}],
    ["glue:GetPartitions", glue("table/cdc_dev/users"), {}],
    ["s3:GetObject", `${data}/analytics/products/history/20261206T000000000Z-1a2b3c4d.parquet`, {}],
    ["s3:ListBucket", data, { "s3:prefix": "analytics/products/" }],
    ["s3:GetBucketLocation", data, {}],
    ["s3:PutObject", "RESULTS/athena-results/0b1c.csv", {}],
    ["s3:GetObject", "RESULTS/athena-results/0b1c.csv", {}],
    ["s3:ListBucket", "RESULTS", { "s3:prefix": "athena-results/0b1c" }],
  ] as const)("allows %s on %s", (action, resource, context) => {
    const arn = resource.replace("RESULTS", results());
    expect(allowed(policy(), action, arn, context)).toBe("allow");
  });

  it.each([
    ["s3:PutObject", `${data}/analytics/products/history/x.parquet`, {}, "deny"],
    ["s3:DeleteObject", `${data}/analytics/products/current/x.parquet`, {}, "deny"],
    ["s3:PutObject", `${data}/analytics/views.sql`, {}, "deny"],
    ["s3:PutObject", `${data}/analytics/_state/manifest.json`, {}, "deny"],
    ["s3:DeleteObjectVersion", `${data}/cdc_data/x.parquet`, {}, "deny"],
    ["glue:UpdateTable", glue("table/cdc_dev/products"), {}, "deny"],
    ["glue:CreateTable", glue("database/cdc_dev"), {}, "deny"],
    ["glue:DeleteTable", glue("table/cdc_dev/products_current"), {}, "deny"],
    ["s3:GetObject", `${data}/cdc_data/cdc.commerce.users/partition=0/x.parquet`, {}, "implicit"],
    ["s3:ListBucket", data, { "s3:prefix": "cdc_data/" }, "implicit"],
    ["athena:StartQueryExecution", `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/primary`, {}, "implicit"],
    ["glue:GetTable", glue("table/other_db/secrets"), {}, "implicit"],
    ["s3:PutObject", "RESULTS/elsewhere/x.csv", {}, "implicit"],
    ["kms:Decrypt", `arn:aws:kms:${REGION}:${ACCOUNT}:key/any`, {}, "implicit"],
  ] as const)("refuses %s on %s", (action, resource, context, how) => {
    const arn = resource.replace("RESULTS", results());
    expect(allowed(policy(), action, arn, context)).toBe(how);
  });
});
