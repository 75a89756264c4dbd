/**
 * The analyst role's permissions: run queries in the stack's Athena workgroup over the Glue tables, read
 * the SCD2 objects, write query results only under the results prefix. Writes to the SCD2 data and the
 * catalog are denied explicitly, so no other policy attached to the role can grant them.
 */
import { s3ObjectsArn, type StatementInput } from "../lib";

export interface AnalystPolicyInputs {
  region: string;
  accountId: string;
  workgroupName: string;
  databaseName: string;
  bucketArn: string;
  /** SCD2 output prefix (read only). */
  analyticsPrefix: string;
  resultsBucketArn: string;
  resultsPrefix: string;
  /** Key of the data bucket and of the results, when customer-managed. */
  kmsKeyArn?: string;
}

/** Athena actions a query needs in its workgroup (console and JDBC/ODBC drivers included). */
export const ATHENA_QUERY_ACTIONS = [
  "athena:StartQueryExecution",
  "athena:StopQueryExecution",
  "athena:GetQueryExecution",
  "athena:GetQueryResults",
  "athena:GetQueryResultsStream",
  "athena:GetQueryRuntimeStatistics",
  "athena:BatchGetQueryExecution",
  "athena:ListQueryExecutions",
  "athena:GetWorkGroup",
];

export const GLUE_READ_ACTIONS = [
  "glue:GetDatabase",
  "glue:GetDatabases",
  "glue:GetTable",
  "glue:GetTables",
  "glue:GetPartition",
  "glue:GetPartitions",
];

export const GLUE_WRITE_ACTIONS = [
  "glue:CreateTable",
  "glue:UpdateTable",
  "glue:DeleteTable",
  "glue:BatchDeleteTable",
  "glue:CreatePartition",
  "glue:BatchCreatePartition",
  "glue:UpdatePartition",
  "glue:DeletePartition",
  "glue:BatchDeletePartition",
];

export const S3_WRITE_ACTIONS = [
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:PutObjectTagging",
  "s3:RestoreObject",
];

export function analystStatements(p: AnalystPolicyInputs): StatementInput[] {
  const glue = (resource: string) => `arn:aws:glue:${p.region}:${p.accountId}:${resource}`;
  const catalogResources = [
    glue("catalog"),
    glue(`database/${p.databaseName}`),
    glue(`table/${p.databaseName}/*`),
  ];
  const prefix = p.analyticsPrefix.replace(/\/+$/, "");
  return [
    {
      Sid: "QueryInWorkgroup",
      Action: ATHENA_QUERY_ACTIONS,
      Resource: [`arn:aws:athena:${p.region}:${p.accountId}:workgroup/${p.workgroupName}`],
    },
    { Sid: "ReadCatalog", Action: GLUE_READ_ACTIONS, Resource: catalogResources },
    { Sid: "ReadScd2Objects", Action: ["s3:GetObject"], Resource: [s3ObjectsArn(p.bucketArn, prefix)] },
    {
      Sid: "ListScd2Prefix",
      Action: ["s3:ListBucket"],
      Resource: [p.bucketArn],
      Condition: { StringLike: { "s3:prefix": [`${prefix}/*`, `${prefix}/`] } },
    },
    { Sid: "LocateBuckets", Action: ["s3:GetBucketLocation"], Resource: [p.bucketArn, p.resultsBucketArn] },
    {
      Sid: "WriteQueryResults",
      Action: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: [s3ObjectsArn(p.resultsBucketArn, p.resultsPrefix)],
    },
    {
      Sid: "ListQueryResults",
      Action: ["s3:ListBucket"],
      Resource: [p.resultsBucketArn],
      Condition: { StringLike: { "s3:prefix": [`${p.resultsPrefix}/*`] } },
    },
    ...(p.kmsKeyArn
      ? [{ Sid: "UseBucketKey", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [p.kmsKeyArn] }]
      : []),
    {
      Sid: "DenyWritesToData",
      Effect: "Deny",
      Action: S3_WRITE_ACTIONS,
      Resource: [`${p.bucketArn}/*`],
    },
    { Sid: "DenyCatalogWrites", Effect: "Deny", Action: GLUE_WRITE_ACTIONS, Resource: catalogResources },
  ];
}

/** Trust policy: the principals allowed to become the analyst (AWS accounts, roles or SSO roles). */
export function analystTrustPolicy(principals: readonly string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: [...principals] }, Action: "sts:AssumeRole" }],
  });
}
