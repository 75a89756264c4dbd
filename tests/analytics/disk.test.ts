// The job checks, before it downloads anything, that its downloads and local writes fit on the work
// dir's file system, and fails with both figures and the stack config key to raise.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DISK_CONFIG_KEY,
  WRITTEN_PER_INPUT_BYTE,
  diskNeed,
  diskShortfall,
  formatBytes,
} from "../../analytics/src/disk";
import { S3Storage } from "../../analytics/src/storage";
import { REPO_ROOT, jsonLines, writeFixture } from "./cli/cli-helpers";
import { startS3Server } from "./storage/s3-server";
import type { S3TestServer } from "./storage/s3-server";

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [20 * 1024 ** 3, "20.0 GiB"],
    [3 * 1024 ** 4, "3.0 TiB"],
  ])("%d bytes is %s", (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});

describe("diskShortfall", () => {
  const need = { downloads: 6 * 1024 ** 3, written: 4 * 1024 ** 3 };
  it.each([
    ["more free than needed", 11 * 1024 ** 3, false],
    ["exactly as much free as needed", 10 * 1024 ** 3, false],
    ["one byte short", 10 * 1024 ** 3 - 1, true],
    ["nothing free", 0, true],
  ])("%s: fails %s", (_, free, fails) => {
    expect(diskShortfall(need, free, "/tmp/w") !== undefined).toBe(fails);
  });

  it("names both figures, in bytes and readable, the parts and the config key", () => {
    expect(diskShortfall(need, 2 * 1024 ** 3, "/tmp/w")).toBe(
      "not enough local disk in /tmp/w: the run needs 10.0 GiB (10737418240 bytes) (6.0 GiB of downloads, " +
        "4.0 GiB written before upload and spilled), but only 2.0 GiB (2147483648 bytes) are free; raise the " +
        "stack config scd2EphemeralStorageGiB (the task's ephemeral storage), or pass --work-dir on a larger " +
        "volume (nothing was downloaded or written)",
    );
    expect(DISK_CONFIG_KEY).toBe("scd2EphemeralStorageGiB");
  });
});

let server: S3TestServer;
let scratch: string;
beforeAll(async () => {
  server = await startS3Server(["raw", "lake"]);
  scratch = mkdtempSync(path.join(tmpdir(), "scd2-disk-"));
});
afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The CLI fixture uploaded to the `raw` bucket; returns its objects' total size. */
async function uploadFixture(prefix: string): Promise<number> {
  const local = path.join(scratch, `${prefix}-local`);
  writeFixture(local);
  const storage = new S3Storage({ bucket: "raw", prefix: `${prefix}/` }, { client: server.client() });
  let bytes = 0;
  for (const entry of readdirSync(local, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    await storage.upload(file, path.relative(local, file).split(path.sep).join("/"));
    bytes += statSync(file).size;
  }
  return bytes;
}

describe("diskNeed", () => {
  it("counts S3 change files not staged before, and the local writes they make", async () => {
    const bytes = await uploadFixture("need");
    const source = new S3Storage({ bucket: "raw", prefix: "need/" }, { client: server.client() });
    const output = new S3Storage({ bucket: "lake", prefix: "need/" }, { client: server.client() });
    const files = await source.list("cdc.commerce.products/");
    const fileBytes = files.reduce((n, f) => n + f.size, 0);
    expect(bytes).toBeGreaterThan(fileBytes); // the users' file is not in this table's listing
    const staging = path.join(scratch, "need-staging");
    const spec = { table: "commerce.products", dir: "products" };
    const need = () => diskNeed(source, output, staging, [{ spec, files, previous: undefined }], true);
    expect(await need()).toEqual({ downloads: fileBytes, written: WRITTEN_PER_INPUT_BYTE * fileBytes });
    // Staged once (as a kept --work-dir holds them), they are not downloaded again.
    await source.localCopy(files[0]!.key, staging);
    expect(await need()).toEqual({
      downloads: fileBytes - files[0]!.size,
      written: WRITTEN_PER_INPUT_BYTE * fileBytes,
    });
  });
});

describe("cdc-scd2 on a disk too small for the run", () => {
  it("exits 1 before downloading anything, naming both figures and the config key", async () => {
    const bytes = await uploadFixture("small");
    const workDir = path.join(scratch, "small-work");
    const started = Date.now();
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "--import",
          path.join(__dirname, "helpers", "small-disk.ts"),
          path.join(REPO_ROOT, "analytics", "src", "cli.ts"),
          "run",
          "--source",
          "s3://raw/small",
          "--output",
          "s3://lake/small",
          "--work-dir",
          workDir,
        ],
        {
          cwd: REPO_ROOT,
          env: { ...process.env, ...server.env, CDC_SCD2_TEST_FREE_BYTES: "512" },
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stdout }));
    });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    const failed = jsonLines(result.stdout).find((l) => l.level === 50);
    const needed = bytes * (1 + WRITTEN_PER_INPUT_BYTE);
    expect(failed?.msg).toBe(
      `not enough local disk in ${workDir}: the run needs ${formatBytes(needed)} (${needed} bytes) ` +
        `(${formatBytes(bytes)} of downloads, ${formatBytes(bytes * WRITTEN_PER_INPUT_BYTE)} written before upload and spilled), ` +
        `but only 512 B (512 bytes) are free; raise the stack config ${DISK_CONFIG_KEY} (the task's ephemeral storage), ` +
        `or pass --work-dir on a larger volume (nothing was downloaded or written)`,
    );
    // Nothing was staged, and the output bucket holds nothing (the run lock was released).
    const staged = readdirSync(workDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(staged.map((e) => e.name)).toEqual([]);
    const output = new S3Storage({ bucket: "lake", prefix: "small/" }, { client: server.client() });
    expect(await output.list("")).toEqual([]);
  });
});
