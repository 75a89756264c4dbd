/**
 * Where the job reads change files and writes SCD2 tables: a local directory or an S3 prefix.
 * Keys are relative to the storage root and always use "/" separators.
 */
export interface StoredObject {
  /** Key relative to the storage root, e.g. `cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000000.snappy.parquet`. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
  /** Opaque version tag (S3 ETag, or mtime+size locally); changes when the object is rewritten. */
  readonly etag: string;
}

export interface Storage {
  /** The root as the user gave it: an absolute directory path or `s3://bucket/prefix`. */
  readonly uri: string;
  /** Every object under `prefix` (recursive), sorted by key. */
  list(prefix: string): Promise<StoredObject[]>;
  /**
   * A local file path holding the object's bytes, for DuckDB to read. Directory storage returns the file
   * in place; S3 storage downloads into `stagingDir` (reusing an earlier download of the same etag).
   */
  localCopy(key: string, stagingDir: string): Promise<string>;
  /** Uploads a local file to `key`, replacing any object there. */
  upload(localPath: string, key: string): Promise<void>;
  /** The object's text, or `undefined` when it does not exist. */
  readText(key: string): Promise<string | undefined>;
  /** Writes text to `key` atomically: readers see the old or the new content, never a partial one. */
  writeText(key: string, body: string): Promise<void>;
  /**
   * Creates `key` only if it does not exist (a run lock). Returns false when it already exists.
   * Directory storage uses O_EXCL; S3 uses a conditional PUT (`If-None-Match: *`).
   */
  createExclusive(key: string, body: string): Promise<boolean>;
  /** Deletes objects; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
}
