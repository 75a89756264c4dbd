import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { DirectoryStorage } from "./directory";
import { StorageError } from "./keys";
import { S3Storage } from "./s3";
import type { S3StorageOptions } from "./s3";
import { parseS3Uri } from "./s3-client";

export type { Storage, StoredObject, VersionedText } from "./storage";
export { DirectoryStorage } from "./directory";
export { StorageError } from "./keys";
export { S3Storage } from "./s3";
export type { S3StorageOptions } from "./s3";
export { parseS3Uri, s3ClientFromEnvironment } from "./s3-client";
export type { S3Location } from "./s3-client";

/**
 * Opens the storage a URI names: `s3://bucket/prefix` is S3, `file:///abs/dir` or a plain path
 * (relative paths resolve against the working directory) is a local directory. Any other scheme,
 * or an empty string, is an error that names the URI.
 */
export function openStorage(uri: string, s3Options?: S3StorageOptions): S3Storage | DirectoryStorage {
  const trimmed = uri.trim();
  if (trimmed === "")
    throw new StorageError("empty storage location: give a directory or s3://bucket/prefix");
  if (trimmed.startsWith("s3://")) return new S3Storage(parseS3Uri(trimmed), s3Options);
  if (trimmed.startsWith("file://")) return new DirectoryStorage(fileURLToPath(trimmed));
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(trimmed);
  if (scheme) {
    throw new StorageError(
      `unsupported storage location ${JSON.stringify(uri)}: scheme "${scheme[1]}" (use a directory or s3://bucket/prefix)`,
    );
  }
  return new DirectoryStorage(path.resolve(trimmed));
}
