// The bucket Athena writes query results to: private, encrypted, TLS only, and expiring (results are
// copies of data the analyst could read anyway; kept a few days for re-downloads, then deleted).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { physicalName } from "../lib";
import { tlsOnlyBucketPolicy } from "../storage";

/** Prefix of the query results in the results bucket. */
export const RESULTS_PREFIX = "athena-results";

export interface ResultsBucketSettings {
  /** Days results are kept (also the days a replaced version is kept on a versioned bucket). */
  expirationDays: number;
  /** The data bucket's customer-managed key, when it has one: results are as sensitive as the data. */
  kmsKeyArn?: pulumi.Input<string>;
  ephemeral: boolean;
  tags: Record<string, string>;
}

/** Creates the results bucket and its guards under `parent`, children named from `name`. */
export function queryResultsBucket(
  name: string,
  s: ResultsBucketSettings,
  parent: pulumi.Resource,
): aws.s3.Bucket {
  const opts = { parent };
  const bucket = new aws.s3.Bucket(
    name,
    {
      bucketPrefix: `${physicalName([pulumi.getProject(), pulumi.getStack(), "athena"], 37)}-`,
      forceDestroy: s.ephemeral,
      tags: s.tags,
    },
    { parent, protect: !s.ephemeral },
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new aws.s3.BucketOwnershipControls(
    `${name}-ownership`,
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: s.kmsKeyArn
            ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: s.kmsKeyArn }
            : { sseAlgorithm: "AES256" },
          bucketKeyEnabled: s.kmsKeyArn ? true : undefined,
        },
      ],
    },
    opts,
  );
  new aws.s3.BucketPolicy(
    `${name}-policy`,
    { bucket: bucket.id, policy: tlsOnlyBucketPolicy(bucket.arn) },
    // A policy put before the public access block would be judged public and rejected.
    { parent, dependsOn: [publicAccess] },
  );
  if (!s.ephemeral) {
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      opts,
    );
  }
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: "expire-query-results",
          status: "Enabled",
          filter: { prefix: `${RESULTS_PREFIX}/` },
          expiration: { days: s.expirationDays },
          noncurrentVersionExpiration: { noncurrentDays: s.expirationDays },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    opts,
  );
  return bucket;
}
