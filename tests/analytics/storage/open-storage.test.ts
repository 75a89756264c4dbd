import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DirectoryStorage, S3Storage, StorageError, openStorage } from "../../../analytics/src/storage";

describe("openStorage", () => {
  it.each([
    ["s3://bucket/prefix", "bucket", "prefix/"],
    ["s3://bucket/a/b/", "bucket", "a/b/"],
    ["s3://my.bucket-1", "my.bucket-1", ""],
    ["s3://bucket/", "bucket", ""],
  ])("opens %s as S3 bucket %s, prefix %j", (uri, bucket, prefix) => {
    const storage = openStorage(uri);
    expect(storage).toBeInstanceOf(S3Storage);
    expect((storage as S3Storage).location).toEqual({ bucket, prefix });
    expect(storage.uri).toBe(`s3://${bucket}/${prefix}`);
  });

  it.each([
    ["/tmp/cdc-out", "/tmp/cdc-out"],
    ["/tmp/cdc-out/", "/tmp/cdc-out"],
    ["file:///tmp/cdc%20out", "/tmp/cdc out"],
    ["relative/dir", path.resolve("relative/dir")],
  ])("opens %s as the directory %s", (uri, dir) => {
    const storage = openStorage(uri);
    expect(storage).toBeInstanceOf(DirectoryStorage);
    expect(storage.uri).toBe(dir);
  });

  it.each([
    ["", /empty storage location/],
    ["   ", /empty storage location/],
    ["gs://bucket/x", /unsupported storage location "gs:\/\/bucket\/x": scheme "gs"/],
    ["https://example.com/x", /scheme "https"/],
    ["s3://", /invalid S3 bucket name ""/],
    ["s3://Upper_Case/x", /invalid S3 bucket name "Upper_Case"/],
    ["s3://bucket/a/../b", /invalid storage key "a\/..\/b"/],
    ["s3://bucket/a//b", /invalid storage key "a\/\/b"/],
  ])("rejects %j", (uri, message) => {
    expect(() => openStorage(uri)).toThrow(StorageError);
    expect(() => openStorage(uri)).toThrow(message);
  });
});
