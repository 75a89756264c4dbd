// S3-specific behaviour against a real s3rver process: pagination, download reuse, multipart, errors.
import type { S3Client } from "@aws-sdk/client-s3";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Storage, s3ClientFromEnvironment } from "../../../analytics/src/storage";
import { startS3Server } from "./s3-server";
import type { S3TestServer } from "./s3-server";

let server: S3TestServer;
let scratch: string;
let counter = 0;

beforeAll(async () => {
  server = await startS3Server(["data"]);
  scratch = mkdtempSync(path.join(tmpdir(), "s3-storage-"));
});

afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A client that counts the commands it sends, by name. */
function countingClient(): { client: S3Client; sent: Map<string, number> } {
  const client = server.client();
  const sent = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.set(context.commandName ?? "?", (sent.get(context.commandName ?? "?") ?? 0) + 1);
      return next(args);
    },
    { step: "initialize" },
  );
  return { client, sent };
}

const freshPrefix = (): string => `t${++counter}/`;

describe("S3Storage on s3rver", () => {
  it("follows ListObjectsV2 continuation tokens across pages", async () => {
    const { client, sent } = countingClient();
    const storage = new S3Storage({ bucket: "data", prefix: freshPrefix() }, { client, pageSize: 4 });
    const keys = Array.from(
      { length: 25 },
      (_, i) => `topic/partition=0/f+0+${String(i).padStart(10, "0")}.parquet`,
    );
    for (const key of keys) await storage.writeText(key, key);
    const listed = await storage.list("topic/");
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(sent.get("ListObjectsV2Command")).toBe(7); // ceil(25 / 4) pages
  });

  it("downloads once per etag, reuses the staged copy, and fetches again after a rewrite", async () => {
    const { client, sent } = countingClient();
    const prefix = freshPrefix();
    const staging = path.join(scratch, `staging-${++counter}`);
    const storage = new S3Storage({ bucket: "data", prefix }, { client });
    await storage.writeText("a/file.json", '{"v":1}\n');
    await storage.list("");
    const first = await storage.localCopy("a/file.json", staging);
    const again = await storage.localCopy("a/file.json", staging);
    expect(again).toBe(first);
    expect(first.startsWith(staging + path.sep)).toBe(true);
    expect(path.basename(first)).toBe("file.json"); // DuckDB detects formats and compression by extension
    expect(readFileSync(first, "utf8")).toBe('{"v":1}\n');
    expect(sent.get("GetObjectCommand")).toBe(1);

    // A second storage object (a later run) finds the staged copy through HEAD, without listing.
    const { client: laterClient, sent: laterSent } = countingClient();
    const later = new S3Storage({ bucket: "data", prefix }, { client: laterClient });
    expect(await later.localCopy("a/file.json", staging)).toBe(first);
    expect(laterSent.get("HeadObjectCommand")).toBe(1);
    expect(laterSent.get("GetObjectCommand")).toBeUndefined();

    await storage.writeText("a/file.json", '{"v":2}\n');
    await storage.list("a/");
    const rewritten = await storage.localCopy("a/file.json", staging);
    expect(rewritten).not.toBe(first);
    expect(readFileSync(rewritten, "utf8")).toBe('{"v":2}\n');
    expect(sent.get("GetObjectCommand")).toBe(2);
  });

  it("uploads big files as multipart uploads, byte for byte", async () => {
    const { client, sent } = countingClient();
    const storage = new S3Storage(
      { bucket: "data", prefix: freshPrefix() },
      { client, multipartThreshold: 5 << 20 },
    );
    const file = path.join(scratch, "big.bin");
    const bytes = Buffer.alloc(12 << 20);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32BE(i, i);
    writeFileSync(file, bytes);
    await storage.upload(file, "out/big.parquet");
    expect(sent.get("UploadPartCommand")).toBe(3); // 5 MiB + 5 MiB + 2 MiB
    expect(sent.get("PutObjectCommand")).toBeUndefined();
    const copy = await storage.localCopy("out/big.parquet", path.join(scratch, "staging-big"));
    expect(statSync(copy).size).toBe(bytes.length);
    expect(readFileSync(copy).equals(bytes)).toBe(true);
  });

  it("names the bucket when it does not exist", async () => {
    const storage = new S3Storage({ bucket: "no-such-bucket", prefix: "x/" }, { client: server.client() });
    await expect(storage.list("")).rejects.toThrow(
      's3://no-such-bucket/x/: cannot list the prefix: bucket "no-such-bucket" does not exist',
    );
    await expect(storage.writeText("k", "v")).rejects.toThrow(
      /cannot write k: bucket "no-such-bucket" does not exist/,
    );
    await expect(storage.readText("k")).rejects.toThrow(
      /cannot read k: bucket "no-such-bucket" does not exist/,
    );
  });

  it("reports wrong credentials as an S3 error naming the operation", async () => {
    const client = s3ClientFromEnvironment({ ...server.env, AWS_ACCESS_KEY_ID: "UNKNOWN" });
    const storage = new S3Storage({ bucket: "data", prefix: "" }, { client });
    await expect(storage.list("")).rejects.toThrow(
      /^s3:\/\/data\/: cannot list the prefix: access denied \(.*Access Key Id.*\)$/,
    );
  });

  it("reports an unreachable endpoint", async () => {
    const client = s3ClientFromEnvironment({ ...server.env, AWS_ENDPOINT_URL: "http://127.0.0.1:9" });
    const storage = new S3Storage({ bucket: "data", prefix: "" }, { client });
    await expect(storage.readText("k")).rejects.toThrow(/^s3:\/\/data\/: cannot read k: .*ECONNREFUSED/);
  });

  // Emulator limitation, kept explicit: s3rver ignores If-None-Match on PUT and overwrites, so a lock
  // taken on s3rver directly does not exclude anyone. AWS S3 answers 412; storage-contract.test.ts tests
  // createIfAbsent through a proxy that adds that documented behaviour. If this test starts failing,
  // s3rver has learned conditional writes and the proxy can go.
  it("s3rver itself does not honour If-None-Match: * (why the contract test uses a proxy)", async () => {
    const storage = new S3Storage({ bucket: "data", prefix: freshPrefix() }, { client: server.client() });
    expect(await storage.createIfAbsent("run.lock", "first")).toEqual(expect.any(String));
    expect(await storage.createIfAbsent("run.lock", "second")).toEqual(expect.any(String));
    expect(await storage.readText("run.lock")).toBe("second");
  });

  // Same for If-Match on PUT and DELETE: s3rver overwrites and deletes regardless of the ETag, so the
  // compare-and-swap of the run lock is tested through the proxy too.
  it("s3rver itself does not honour If-Match (why the contract test uses a proxy)", async () => {
    const storage = new S3Storage({ bucket: "data", prefix: freshPrefix() }, { client: server.client() });
    expect(await storage.createIfAbsent("run.lock", "first")).toEqual(expect.any(String));
    expect(await storage.replaceIfVersion("run.lock", "second", '"not-its-etag"')).toEqual(
      expect.any(String),
    );
    expect(await storage.readText("run.lock")).toBe("second");
    expect(await storage.deleteIfVersion("run.lock", '"not-its-etag"')).toBe(true);
    expect(await storage.readText("run.lock")).toBeUndefined();
  });
});

describe("s3ClientFromEnvironment", () => {
  it.each([
    [{ AWS_REGION: "eu-west-1" }, { region: "eu-west-1", forcePathStyle: false, endpoint: undefined }],
    [
      { AWS_DEFAULT_REGION: "eu-central-1" },
      { region: "eu-central-1", forcePathStyle: false, endpoint: undefined },
    ],
    [
      { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "http://minio:9000" },
      { region: "eu-west-1", forcePathStyle: true, endpoint: "minio:9000" },
    ],
    [
      { AWS_ENDPOINT_URL: "http://generic:1", AWS_ENDPOINT_URL_S3: "http://s3only:2" },
      { region: "us-east-1", forcePathStyle: true, endpoint: "s3only:2" },
    ],
  ])("configures %j", async (env, expected) => {
    const config = s3ClientFromEnvironment(env).config;
    expect(await config.region()).toBe(expected.region);
    expect(config.forcePathStyle ?? false).toBe(expected.forcePathStyle);
    const endpoint = config.endpoint ? await config.endpoint() : undefined;
    expect(endpoint ? `${endpoint.hostname}:${endpoint.port}` : undefined).toBe(expected.endpoint);
  });
});
