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

/** An object's text with its version tag, for compare-and-swap updates (the run lock). */
export interface VersionedText {
  readonly text: string;
  /**
   * Opaque tag of this content: the S3 ETag, or a SHA-256 of the content locally. Equal content may
   * share a tag (the S3 ETag of a plain PUT is its MD5), so callers that compare-and-swap write unique
   * content (the run lock carries its run id and refresh time).
   */
  readonly version: string;
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
  /**
   * Bytes `localCopy` would add to `stagingDir` for these objects (as `list` returned them): 0 for
   * directory storage, which is read in place; for S3 the sizes of those not downloaded there before.
   */
  stagedBytes(objects: readonly StoredObject[], stagingDir: string): Promise<number>;
  /**
   * Uploads a local file to `key`, replacing any object there. The file must not change afterwards:
   * directory storage links it in place of a copy where it can.
   */
  upload(localPath: string, key: string): Promise<void>;
  /** The object's text, or `undefined` when it does not exist. */
  readText(key: string): Promise<string | undefined>;
  /** Writes text to `key` atomically: readers see the old or the new content, never a partial one. */
  writeText(key: string, body: string): Promise<void>;
  /**
   * Creates `key` only if it does not exist (a run lock): the new object's version tag, or undefined
   * when it already exists. Directory storage links a complete file (EEXIST like O_EXCL); S3 uses a
   * conditional PUT (`If-None-Match: *`).
   */
  createIfAbsent(key: string, body: string): Promise<string | undefined>;
  /** The object's text and version tag, or `undefined` when it does not exist. */
  readVersioned(key: string): Promise<VersionedText | undefined>;
  /**
   * Replaces `key` with `body` only if its version is still `version` (compare-and-swap): S3 uses a
   * conditional PUT (`If-Match: <etag>`), directory storage a per-version claim file made with O_EXCL and
   * a rename (see DirectoryStorage). Returns the new version, or undefined when the object changed or is
   * gone. Of several callers swapping the same version, at most one succeeds.
   */
  replaceIfVersion(key: string, body: string, version: string): Promise<string | undefined>;
  /** Deletes `key` only if its version is still `version`; false when it changed or is gone. */
  deleteIfVersion(key: string, version: string): Promise<boolean>;
  /** Deletes objects; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Moves `fromKey` to `toKey`, replacing any object there. Idempotent: when `fromKey` is gone and
   * `toKey` exists, the move is taken as done; when neither exists it is an error naming both keys.
   * Directory storage renames (atomic); S3 copies then deletes (the object exists under both keys for a
   * moment, and a copy is limited to 5 GB).
   */
  move(fromKey: string, toKey: string): Promise<void>;
}
