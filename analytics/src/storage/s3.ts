import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StorageError, assertValidKey, compareKeys } from "./keys";
import type { Storage, StoredObject, VersionedText } from "./storage";

/** Where an `s3://bucket/prefix` URI points. `prefix` is "" or ends with "/". */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

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
      const file = this.stagedPath(key, etag, stagingDir);
      if (await exists(file)) return file;
      await fs.mkdir(path.dirname(file), { recursive: true });
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key: objectKey, IfMatch: etag || undefined }),
      );
      const temp = `${file}.${randomBytes(6).toString("hex")}.part`;
      try {
        await pipeline(response.Body as Readable, createWriteStream(temp));
        await fs.rename(temp, file);
      } catch (error) {
        await fs.rm(temp, { force: true });
        throw error;
      }
      return file;
    } catch (error) {
      throw this.wrap(error, `cannot download ${key}`);
    }
  }

  async stagedBytes(objects: readonly StoredObject[], stagingDir: string): Promise<number> {
    let bytes = 0;
    for (const object of objects) {
      if (!(await exists(this.stagedPath(object.key, object.etag, stagingDir)))) bytes += object.size;
    }
    return bytes;
  }

  /** One folder per ETag: a rewritten object gets a fresh copy, an unchanged one is reused. */
  private stagedPath(key: string, etag: string, stagingDir: string): string {
    const objectKey = this.objectKey(key);
    return path.join(stagingDir, "s3", this.location.bucket, etagFolder(etag), ...objectKey.split("/"));
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
    if (error instanceof StorageError) return error;
    const name = errorName(error);
    const status = httpStatus(error);
    let reason = error instanceof Error ? error.message : String(error);
    if (name === "NoSuchBucket") reason = `bucket ${JSON.stringify(this.location.bucket)} does not exist`;
    else if (name === "NoSuchKey" || (status === 404 && name === "NotFound")) reason = "no such object";
    else if (status === 403 || name === "AccessDenied") reason = `access denied (${reason})`;
    else if (name && !reason.includes(name)) reason = `${name}: ${reason}`;
    return new StorageError(`${this.uri}: ${what}: ${reason}`, { cause: error });
  }
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

function etagFolder(etag: string): string {
  const clean = etag.replace(/[^A-Za-z0-9-]/g, "");
  return clean === "" ? "no-etag" : clean;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}
