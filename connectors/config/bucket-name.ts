/**
 * S3's naming rules for general purpose buckets, shared by the config builder and the local runtime
 * (which maps a bucket to a folder, so a name like `../x` must never get that far).
 */
const BUCKET_SHAPE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/** Why `name` is not a valid S3 bucket name, or undefined when it is. */
export function bucketNameProblem(name: string): string | undefined {
  if (!BUCKET_SHAPE.test(name))
    return "must be 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit";
  if (name.includes("..")) return "must not contain '..'";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not look like an IP address";
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p)) || RESERVED_SUFFIXES.some((s) => name.endsWith(s)))
    return `must not use a reserved prefix (${RESERVED_PREFIXES.join(", ")}) or suffix (${RESERVED_SUFFIXES.join(", ")})`;
  return undefined;
}
