import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import * as path from "node:path";

/** Temporary files of in-flight writes (and claim files) start with this; `list` never returns them. */
export const TEMP_PREFIX = ".cdc-tmp-";

/** A fresh temporary name beside `target`: the same directory, so a rename onto it is atomic. */
export function tempPath(target: string): string {
  return path.join(
    path.dirname(target),
    `${TEMP_PREFIX}${randomBytes(6).toString("hex")}-${path.basename(target)}`,
  );
}

/**
 * Writes `target` through `fill(temp)` on a temporary name beside it, then renames it over `target`: no
 * reader, and no later run after a crash, ever sees a partial `target`. The temp file goes on failure.
 */
export async function writeThroughTemp(target: string, fill: (temp: string) => Promise<void>): Promise<void> {
  const temp = tempPath(target);
  try {
    await fill(temp);
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Creates `file` (failing with EEXIST if it exists), writes `body` and fsyncs it. */
export async function writeSynced(file: string, body: string): Promise<void> {
  const handle = await fs.open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  try {
    await handle.writeFile(body, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory so a rename or create inside it is durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether `file` is a regular file now; a missing or unreadable path is not. */
export async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (stat) => stat.isFile(),
    () => false,
  );
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as NodeJS.ErrnoException).code === code;
}
