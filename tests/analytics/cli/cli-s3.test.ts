// End to end on S3: source and output both in buckets of a real s3rver process, reached through the
// standard AWS environment (AWS_ENDPOINT_URL, AWS_REGION, credentials), as the Fargate task would.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Storage } from "../../../analytics/src/storage";
import { startS3Server } from "../storage/s3-server";
import type { S3TestServer } from "../storage/s3-server";
import { FIXTURE_COUNTS, jsonLines, readScd2, runCli, writeFixture } from "./cli-helpers";

let server: S3TestServer;
let scratch: string;

beforeAll(async () => {
  server = await startS3Server(["raw-changes", "lake"]);
  scratch = mkdtempSync(path.join(tmpdir(), "cli-s3-"));
});
afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Uploads every file under `dir` to the storage, under the same relative keys. */
async function uploadTree(storage: S3Storage, dir: string): Promise<void> {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    await storage.upload(file, path.relative(dir, file).split(path.sep).join("/"));
  }
}

/** Downloads an output table's Parquet files to a local folder, for DuckDB to read. */
async function downloadTable(storage: S3Storage, table: string): Promise<string> {
  const dir = mkdtempSync(path.join(scratch, `${table}-`));
  const staging = path.join(dir, "staging");
  for (const object of await storage.list(`${table}/`)) {
    await storage.localCopy(object.key, staging);
  }
  return staging;
}

describe("cdc-scd2 run on S3 (s3rver)", () => {
  it("reads change files from one bucket and writes SCD2 tables to another", async () => {
    const local = path.join(scratch, "fixture");
    writeFixture(local);
    const source = new S3Storage({ bucket: "raw-changes", prefix: "topics/" }, { client: server.client() });
    await uploadTree(source, local);
    const output = new S3Storage({ bucket: "lake", prefix: "scd2/" }, { client: server.client() });
    const args = ["run", "--source", "s3://raw-changes/topics", "--output", "s3://lake/scd2"];

    const first = await runCli(args, { env: server.env });
    expect(first.stderr).toBe(""); // even Node's process warnings go to the JSON log
    expect(first.code).toBe(0);
    const done = jsonLines(first.stdout).filter((l) => l.msg === "table done");
    expect(Object.fromEntries(done.map((l) => [l.table, l]))).toMatchObject(FIXTURE_COUNTS);

    const keys = (await output.list("")).map((o) => o.key);
    expect(keys).toContain("_state/manifest.json");
    expect(keys).not.toContain("_state/lock");
    expect(keys.some((k) => k.startsWith("products/") && k.endsWith(".parquet"))).toBe(true);
    expect(await readScd2(await downloadTable(output, "products"))).toMatchObject({
      versions: 4,
      current: 2,
      deleted: 1,
    });
    expect(await readScd2(await downloadTable(output, "users"))).toMatchObject({
      versions: 2,
      current: 1,
      deleted: 0,
    });
    expect(JSON.parse((await output.readText("_state/manifest.json"))!)).toBeTypeOf("object");

    const rerun = await runCli(args, { env: server.env });
    expect(rerun.code).toBe(0);
    const again = jsonLines(rerun.stdout).filter((l) => l.msg === "table done");
    expect(again.map((l) => [l.table, l.files, l.versions])).toEqual([
      ["commerce.products", 0, 4],
      ["commerce.users", 0, 2],
    ]);
  });

  it("exits 1 with a message naming a bucket that does not exist", async () => {
    const result = await runCli(
      ["run", "--source", "s3://no-such-bucket/topics", "--output", "s3://lake/other"],
      {
        env: server.env,
      },
    );
    expect(result.code).toBe(1);
    const failure = jsonLines(result.stdout).find((l) => l.level === 50);
    expect(String(failure?.msg)).toMatch(
      /s3:\/\/no-such-bucket\/topics\/: .*bucket "no-such-bucket" does not exist/,
    );
  });
});
