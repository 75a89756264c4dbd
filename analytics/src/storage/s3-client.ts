import { S3Client } from "@aws-sdk/client-s3";
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { StorageError, assertValidKey } from "./keys";

/** Where an `s3://bucket/prefix` URI points. `prefix` is "" or ends with "/". */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/** Parses `s3://bucket/prefix`; the prefix gets a trailing "/" so keys never run into it. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/.exec(uri);
  if (!match) throw new StorageError(`not an S3 URI: ${JSON.stringify(uri)} (expected s3://bucket/prefix)`);
  const [, bucket = "", rawPrefix = ""] = match;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new StorageError(
      `invalid S3 bucket name ${JSON.stringify(bucket)} in ${uri}: 3-63 lowercase letters, digits, "." or "-"`,
    );
  }
  const prefix = rawPrefix.replace(/\/+$/, "");
  if (prefix !== "") assertValidKey(prefix, uri);
  return { bucket, prefix: prefix === "" ? "" : `${prefix}/` };
}

/**
 * The S3 client for the job. Region and credentials come from the SDK's default chain (AWS_REGION,
 * AWS_PROFILE, ~/.aws/config, the ECS task role, ...). An endpoint from AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL (an S3-compatible server such as MinIO or s3rver) switches to path-style addressing,
 * which those servers expect, and sends checksums only where S3 requires them: the SDK's default streams
 * uploads as `aws-chunked` with a trailing CRC32, which such servers store verbatim inside the object.
 * AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION still override that.
 */
export function s3ClientFromEnvironment(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  // A connection that stops answering fails (and is retried by the SDK) instead of hanging the run.
  const config: S3ClientConfig = { requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 } };
  // The SDK reads AWS_REGION only; AWS_DEFAULT_REGION is the older CLI spelling many setups still use.
  if (!env.AWS_REGION && env.AWS_DEFAULT_REGION) config.region = env.AWS_DEFAULT_REGION;
  if (env !== process.env) {
    // The SDK's default chain reads process.env; a caller-given environment has to be passed through.
    if (env.AWS_REGION) config.region = env.AWS_REGION;
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        sessionToken: env.AWS_SESSION_TOKEN,
      };
    }
  }
  if (!endpoint) return new S3Client(config);
  config.endpoint = endpoint;
  config.forcePathStyle = true;
  // A custom endpoint needs some region to sign with; AWS itself still requires a real one.
  config.region ??= env.AWS_REGION ?? "us-east-1";
  if (!env.AWS_REQUEST_CHECKSUM_CALCULATION) config.requestChecksumCalculation = "WHEN_REQUIRED";
  if (!env.AWS_RESPONSE_CHECKSUM_VALIDATION) config.responseChecksumValidation = "WHEN_REQUIRED";
  return new S3Client(config);
}
