/**
 * The guards every bucket of the stack has: no public access, no ACLs, encryption at rest (the given
 * customer-managed key, else SSE-S3), TLS 1.2+ only, and versioning where history must survive a
 * mistake. Lifecycle rules differ per bucket and stay with its owner.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface BucketGuardSettings {
  /** Encrypt with this customer-managed KMS key; default SSE-S3 (AES256). */
  kmsKeyArn?: pulumi.Input<string>;
  /** Keep replaced and deleted versions (long-lived stacks); default false. */
  versioned?: boolean;
}

/** Creates the guards of `bucket` under `parent`, children named from `name`. */
export function guardBucket(
  name: string,
  bucket: aws.s3.Bucket,
  settings: BucketGuardSettings,
  parent: pulumi.Resource,
): void {
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    { parent },
  );
  new aws.s3.BucketOwnershipControls(
    `${name}-ownership`,
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    { parent },
  );
  const kms = settings.kmsKeyArn;
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: kms
            ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: kms }
            : { sseAlgorithm: "AES256" },
          bucketKeyEnabled: kms ? true : undefined,
        },
      ],
    },
    { parent },
  );
  if (settings.versioned) {
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      { parent },
    );
  }
  new aws.s3.BucketPolicy(
    `${name}-policy`,
    { bucket: bucket.id, policy: tlsOnlyBucketPolicy(bucket.arn) },
    // A policy put before the public access block would be judged public and rejected.
    { parent, dependsOn: [publicAccess] },
  );
}

/** Deny every request that does not use TLS (and TLS below 1.2). */
export function tlsOnlyBucketPolicy(bucketArn: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.output(bucketArn).apply((arn) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        {
          Sid: "DenyOutdatedTls",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [arn, `${arn}/*`],
          Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
        },
      ],
    }),
  );
}
