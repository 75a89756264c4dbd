import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createReadStream, promises as fs } from "node:fs";
import type { Readable } from "node:stream";
import { StorageError, assertValidKey, compareKeys, storageFailure } from "./keys";
import { isFile } from "./local-files";
import { s3ClientFromEnvironment } from "./s3-client";
import type { S3Location } from "./s3-client";
import { errorName, httpStatus, s3Reason } from "./s3-errors";
import { stageDownload, stagedPath } from "./s3-staging";
import type { Storage, StoredObject, VersionedText } from "./storage";

/** Options for tests and callers that build their own client; production reads the AWS environment. */
export interface S3StorageOptions {
  /** Default: a client configured from the standard AWS environment/config (see `s3ClientFromEnvironment`). */
  readonly client?: S3Client;
  /** Largest page ListObjectsV2 may return. Default 1000 (the S3 maximum). */
  readonly pageSize?: number;
  /** Uploads above this size use multipart upload. Default 16 MiB. */
  readonly multipartThreshold?: number;
}

const DELETE_BATCH = 1000; // DeleteObjects takes at most 1000 keys.

/**
 * Storage under an S3 prefix. Objects are downloaded into the caller's staging directory for DuckDB
 * (so the job needs no httpfs extension) and reused while their ETag is unchanged. S3 PUTs are atomic,
 * so `writeText` is a plain PUT; `createIfAbsent` is a conditional PUT (`If-None-Match: *`), and the
 * compare-and-swap methods use the ETag: `If-Match` on PutObject and on DeleteObject.
 */
export class S3Storage implements Storage {
  readonly uri: string;
  private readonly client: S3Client;
  private readonly pageSize: number;
  private readonly multipartThreshold: number;
  /** ETags seen by `list`, so `localCopy` can skip a HEAD request. */
  private readonly knownEtags = new Map<string, string>();

  constructor(
    readonly location: S3Location,
    options: S3StorageOptions = {},
  ) {
    this.uri = `s3://${location.bucket}/${location.prefix}`;
    this.client = options.client ?? s3ClientFromEnvironment();
    this.pageSize = options.pageSize ?? 1000;
    this.multipartThreshold = options.multipartThreshold ?? 16 * 1024 * 1024;
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: this.pageSize },
      { Bucket: this.location.bucket, Prefix: this.location.prefix + prefix },
    );
    try {
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined || object.Key.endsWith("/")) continue; // "folder" markers
          const key = object.Key.slice(this.location.prefix.length);
          const etag = object.ETag ?? "";
          this.knownEtags.set(key, etag);
          objects.push({ key, size: object.Size ?? 0, etag });
        }
      }
    } catch (error) {
      throw this.wrap(error, `cannot list ${prefix === "" ? "the prefix" : prefix}`);
    }
    return objects.sort((a, b) => compareKeys(a.key, b.key));
  }

  async localCopy(key: string, stagingDir: string): Promise<string> {
    const objectKey = this.objectKey(key);
    try {
      const etag = this.knownEtags.get(key) ?? (await this.headEtag(objectKey));
      const file = stagedPath(stagingDir, this.location.bucket, objectKey, etag);
      if (await isFile(file)) return file;
      await stageDownload(file, async () => {
        const response = await this.client.send(
          new GetObjectCommand({ Bucket: this.location.bucket, Key: objectKey, IfMatch: etag || undefined }),
        );
        return response.Body as Readable;
      });
      return file;
    } catch (error) {
      throw this.wrap(error, `cannot download ${key}`);
    }
  }

  async stagedBytes(objects: readonly StoredObject[], stagingDir: string): Promise<number> {
    let bytes = 0;
    for (const object of objects) {
      const file = stagedPath(stagingDir, this.location.bucket, this.objectKey(object.key), object.etag);
      if (!(await isFile(file))) bytes += object.size;
    }
    return bytes;
  }

  async upload(localPath: string, key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      const { size } = await fs.stat(localPath);
      if (size <= this.multipartThreshold) {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.location.bucket,
            Key: objectKey,
            Body: createReadStream(localPath),
            ContentLength: size,
          }),
        );
      } else {
        await new Upload({
          client: this.client,
          params: { Bucket: this.location.bucket, Key: objectKey, Body: createReadStream(localPath) },
          partSize: Math.max(5 * 1024 * 1024, this.multipartThreshold),
          queueSize: 4,
          leavePartsOnError: false,
        }).done();
      }
      this.knownEtags.delete(key);
    } catch (error) {
      throw this.wrap(error, `cannot upload ${localPath} to ${key}`);
    }
  }

  async readText(key: string): Promise<string | undefined> {
    return (await this.readVersioned(key))?.text;
  }

  async writeText(key: string, body: string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key), Body: body }),
      );
      this.knownEtags.delete(key);
    } catch (error) {
      throw this.wrap(error, `cannot write ${key}`);
    }
  }

  async createIfAbsent(key: string, body: string): Promise<string | undefined> {
    // 412: the object exists. 409: a concurrent conditional write to the same key won the race.
    return this.conditionalPut(key, body, { IfNoneMatch: "*" }, [412, 409], `cannot create ${key}`);
  }

  async readVersioned(key: string): Promise<VersionedText | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }),
      );
      const text = await response.Body!.transformToString("utf8");
      return { text, version: response.ETag ?? "" };
    } catch (error) {
      if (errorName(error) === "NoSuchKey") return undefined;
      throw this.wrap(error, `cannot read ${key}`);
    }
  }

  async replaceIfVersion(key: string, body: string, version: string): Promise<string | undefined> {
    // 412: the ETag changed. 404: the object is gone. 409: a concurrent conditional write won.
    return this.conditionalPut(key, body, { IfMatch: version }, [412, 404, 409], `cannot replace ${key}`);
  }

  /** A PUT under a precondition: the new ETag, or undefined when S3 answers one of `lost`. */
  private async conditionalPut(
    key: string,
    body: string,
    condition: { IfNoneMatch: string } | { IfMatch: string },
    lost: number[],
    failure: string,
  ): Promise<string | undefined> {
    try {
      const response = await this.client.send(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.objectKey(key),
          Body: body,
          ...condition,
        }),
      );
      this.knownEtags.delete(key);
      return response.ETag ?? "";
    } catch (error) {
      if (lost.includes(httpStatus(error) ?? 0)) return undefined;
      throw this.wrap(error, failure);
    }
  }

  async deleteIfVersion(key: string, version: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key), IfMatch: version }),
      );
      this.knownEtags.delete(key);
      return true;
    } catch (error) {
      const status = httpStatus(error);
      if (status === 412 || status === 404 || status === 409) return false;
      throw this.wrap(error, `cannot delete ${key}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      let failures: string[];
      try {
        const response = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.location.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.objectKey(key) })), Quiet: true },
          }),
        );
        failures = (response.Errors ?? [])
          .filter((e) => e.Code !== "NoSuchKey")
          .map((e) => `${e.Key ?? "?"}: ${e.Code ?? "error"} ${e.Message ?? ""}`.trim());
      } catch (error) {
        throw this.wrap(error, `cannot delete ${batch.length} object(s)`);
      }
      if (failures.length > 0) throw new StorageError(`${this.uri}: cannot delete ${failures.join("; ")}`);
      for (const key of batch) this.knownEtags.delete(key);
    }
  }

  /**
   * CopyObject then DeleteObject: not atomic, so between the two the object exists under both keys. A
   * missing source with the target present is a move already done (by an interrupted caller).
   */
  async move(fromKey: string, toKey: string): Promise<void> {
    const source = this.objectKey(fromKey);
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.location.bucket,
          Key: this.objectKey(toKey),
          // CopySource is URL-encoded, except for its "/" separators.
          CopySource: [this.location.bucket, ...source.split("/")].map(encodeURIComponent).join("/"),
        }),
      );
      this.knownEtags.delete(toKey);
    } catch (error) {
      if (errorName(error) === "NoSuchKey" && (await this.exists(toKey))) return;
      throw this.wrap(error, `cannot move ${fromKey} to ${toKey}`);
    }
    await this.delete([fromKey]);
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.headEtag(this.objectKey(key));
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      throw this.wrap(error, `cannot read ${key}`);
    }
  }

  private objectKey(key: string): string {
    assertValidKey(key, this.uri);
    return this.location.prefix + key;
  }

  private async headEtag(objectKey: string): Promise<string> {
    const head = await this.client.send(
      new HeadObjectCommand({ Bucket: this.location.bucket, Key: objectKey }),
    );
    return head.ETag ?? "";
  }

  /** A StorageError naming the URI and the operation, with the most useful reason S3 gave. */
  private wrap(error: unknown, what: string): StorageError {
    return storageFailure(this.uri, what, error, (e) => s3Reason(e, this.location.bucket));
  }
}
