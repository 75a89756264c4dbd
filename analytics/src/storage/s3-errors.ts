import { S3ServiceException } from "@aws-sdk/client-s3";

/** The SDK's error name ("NoSuchKey", "NoSuchBucket", ...), which S3 errors without a status still carry. */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** The HTTP status S3 answered with; undefined for errors that never reached S3 (network, local I/O). */
export function httpStatus(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/** The most useful reason S3 gave for `error`, in terms a user can act on (`bucket` is the one asked). */
export function s3Reason(error: unknown, bucket: string): string {
  const name = errorName(error);
  const status = httpStatus(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (name === "NoSuchBucket") return `bucket ${JSON.stringify(bucket)} does not exist`;
  if (name === "NoSuchKey" || (status === 404 && name === "NotFound")) return "no such object";
  if (status === 403 || name === "AccessDenied") return `access denied (${reason})`;
  if (name && !reason.includes(name)) return `${name}: ${reason}`;
  return reason;
}
