// The bucket Athena writes query results to: private, encrypted, TLS only, and expiring (results are
// copies of data the analyst could read anyway; kept a few days for re-downloads, then deleted).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { guardBucket, physicalName } from "../lib";

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
  const bucket = new aws.s3.Bucket(
    name,
    {
      bucketPrefix: `${physicalName([pulumi.getProject(), pulumi.getStack(), "athena"], 37)}-`,
      forceDestroy: s.ephemeral,
      tags: s.tags,
    },
    { parent, protect: !s.ephemeral },
  );
  // Versioned like every long-lived bucket (replaced versions expire after the same days, below).
  guardBucket(name, bucket, { kmsKeyArn: s.kmsKeyArn, versioned: !s.ephemeral }, parent);
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
    { parent },
  );
  return bucket;
}
