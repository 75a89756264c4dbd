/** Errors raised by a storage backend: the message names the storage URI and the key at fault. */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageError";
  }
}

/**
 * `error` as a StorageError naming the storage and the operation (`what`), with `describe`'s reason;
 * one that is a StorageError already names them and is passed on as it is.
 */
export function storageFailure(
  uri: string,
  what: string,
  error: unknown,
  describe: (error: unknown) => string = (e) => (e instanceof Error ? e.message : String(e)),
): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError(`${uri}: ${what}: ${describe(error)}`, { cause: error });
}

/**
 * Checks that `key` is a plain relative key ("a/b/c.parquet"): no leading "/", no "." or ".." segment,
 * no empty segment, no backslash. Keys are joined onto a directory or an S3 prefix, so this is what stops
 * a key from escaping the storage root.
 */
export function assertValidKey(key: string, uri: string): void {
  const segments = key.split("/");
  const bad =
    key.length === 0 ||
    key.includes("\\") ||
    key.includes("\0") ||
    segments.some((segment) => segment === "" || segment === "." || segment === "..");
  if (bad) {
    throw new StorageError(
      `invalid storage key ${JSON.stringify(key)} in ${uri}: keys are relative "a/b/c" paths`,
    );
  }
}

/** Byte-wise key order, the order S3 lists keys in (UTF-8 binary), so both backends sort alike. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
