// Storage: the bucket holding raw change files (written by the S3 sink) and SCD2 output.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PIPELINE_DEFAULTS } from "../connectors/config";
import { guardBucket } from "./lib";

export interface StorageArgs {
  /** Bucket name. Defaults to an auto-generated name from the component name. */
  bucketName?: string;
  /** Key prefix the S3 sink writes raw change files under (its `topics.dir`). Defaults to the sink's default, "cdc_data". */
  topicsDir?: string;
  /** Key prefix of the SCD2 output. Defaults to "analytics". */
  analyticsPrefix?: string;
  /** Days before raw change files move to STANDARD_IA (at least 30). Defaults to 30. */
  rawInfrequentAccessDays?: number;
  /** Encrypt with a customer-managed KMS key instead of S3-managed keys. Defaults to false. */
  kms?: boolean;
  /** Ephemeral stack: force-destroy, no versioning. Defaults to false. */
  ephemeral?: boolean;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

/** Days after which incomplete multipart uploads (a crashed sink task's) are aborted. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;
/** Days a replaced or deleted object version is kept on versioned buckets. */
export const NONCURRENT_VERSION_DAYS = 30;

export class Storage extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly topicsDir: string;
  readonly analyticsPrefix: string;
  /** The customer-managed key, when `kms` is set. */
  readonly kmsKeyArn?: pulumi.Output<string>;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:storage:Storage", name, {}, opts);
    const { topicsDir, analyticsPrefix, rawInfrequentAccessDays, ephemeral, tags } = {
      topicsDir: PIPELINE_DEFAULTS.topicsDir,
      analyticsPrefix: "analytics",
      rawInfrequentAccessDays: 30,
      ephemeral: false,
      tags: {},
      ...args,
    };
    this.topicsDir = topicsDir;
    this.analyticsPrefix = analyticsPrefix;

    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      {
        bucket: args.bucketName,
        bucketPrefix: args.bucketName
          ? undefined
          : `${pulumi.getProject()}-${pulumi.getStack()}-`.toLowerCase(),
        forceDestroy: ephemeral,
        tags,
      },
      { parent: this, protect: !ephemeral },
    );
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;

    if (args.kms) {
      const key = new aws.kms.Key(
        `${name}-key`,
        {
          description: `cdc bucket ${name}`,
          enableKeyRotation: true,
          deletionWindowInDays: ephemeral ? 7 : 30,
          tags,
        },
        { parent: this, protect: !ephemeral },
      );
      this.kmsKeyArn = key.arn;
    }
    // Long-lived stacks keep overwritten/deleted objects for a while; ephemeral ones never version.
    guardBucket(name, bucket, { kmsKeyArn: this.kmsKeyArn, versioned: !ephemeral }, this);
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS },
          },
          {
            id: "raw-change-files-to-infrequent-access",
            status: "Enabled",
            filter: { prefix: `${topicsDir}/` },
            transitions: [{ days: rawInfrequentAccessDays, storageClass: "STANDARD_IA" }],
          },
          ...(ephemeral
            ? []
            : [
                {
                  id: "expire-noncurrent-versions",
                  status: "Enabled",
                  filter: {},
                  noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_DAYS },
                },
              ]),
        ],
      },
      { parent: this },
    );

    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }

  /** `s3://bucket/prefix` for a prefix in this bucket. */
  uri(prefix: string): pulumi.Output<string> {
    return pulumi.interpolate`s3://${this.bucketName}/${prefix}`;
  }
}
