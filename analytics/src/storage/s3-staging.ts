/**
 * The local copies S3Storage downloads for DuckDB. They are a cache: a copy is kept per object and ETag
 * and reused while the object is unchanged, so nothing here needs fsync.
 */
import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { writeThroughTemp } from "./local-files";

/** One folder per ETag: a rewritten object gets a fresh copy, an unchanged one is reused. */
export function stagedPath(stagingDir: string, bucket: string, objectKey: string, etag: string): string {
  return path.join(stagingDir, "s3", bucket, etagFolder(etag), ...objectKey.split("/"));
}

/**
 * Saves the body `download` returns at `file`. Its folder is made before the request is sent, and the
 * body is written under a temporary name, so a failed download leaves no partial copy to be reused.
 */
export async function stageDownload(file: string, download: () => Promise<Readable>): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const body = await download();
  await writeThroughTemp(file, (temp) => pipeline(body, createWriteStream(temp)));
}

function etagFolder(etag: string): string {
  const clean = etag.replace(/[^A-Za-z0-9-]/g, "");
  return clean === "" ? "no-etag" : clean;
}
