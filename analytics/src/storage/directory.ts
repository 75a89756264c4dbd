import { createHash, randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeDirs } from "../mkdirs";
import { StorageError, assertValidKey, compareKeys } from "./keys";
import type { Storage, StoredObject, VersionedText } from "./storage";

/** Temporary files of in-flight writes start with this; `list` never returns them. */
const TEMP_PREFIX = ".cdc-tmp-";
/**
 * A claim file (see replaceIfVersion) is held for the few milliseconds of one swap. One older than this,
 * or left on this host by a process that has exited, belongs to a caller that crashed mid-swap.
 */
export const CLAIM_STALE_MS = 60_000;

/**
 * Storage in a local directory. Writes go to a temporary file in the target directory, are fsynced, then
 * renamed over the target (rename is atomic on POSIX file systems), and the directory is fsynced so the
 * rename survives a crash. The directory and its parents are created on the first write, and removed
 * again when a delete or move leaves them empty (as S3 has no empty "folders"; a write racing the delete
 * that empties its directory could fail, which the job's one-writer-at-a-time run lock rules out).
 *
 * Compare-and-swap (replaceIfVersion, deleteIfVersion): a file's version is the SHA-256 of its content.
 * Every change away from version V first creates a claim file for V with O_EXCL, named after V and a
 * generation number, then re-reads the file: only if it still holds V does it rename the new content
 * over it (or unlink it). Since no change away from V can happen without the claim, of several callers
 * swapping V at most one succeeds; the others find the claim taken or the file changed. A claim left by
 * a crashed caller (see CLAIM_STALE_MS) is superseded by the next generation, again with O_EXCL.
 */
export class DirectoryStorage implements Storage {
  readonly uri: string;

  /** @param root an absolute directory path. */
  constructor(readonly root: string) {
    if (!path.isAbsolute(root)) {
      throw new StorageError(`directory storage needs an absolute path, got ${JSON.stringify(root)}`);
    }
    this.root = path.resolve(root);
    this.uri = this.root;
  }

  async list(prefix: string): Promise<StoredObject[]> {
    // Walk only the deepest directory the prefix names, then filter on the full prefix (S3 semantics).
    const prefixDir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (prefixDir !== "") assertValidKey(prefixDir, this.uri);
    const objects: StoredObject[] = [];
    await this.walk(prefixDir, objects);
    return objects.filter((o) => o.key.startsWith(prefix)).sort((a, b) => compareKeys(a.key, b.key));
  }

  /** The file itself: DuckDB reads it in place, so the staging directory is not used. */
  async localCopy(key: string, _stagingDir?: string): Promise<string> {
    const file = this.pathOf(key);
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) throw new StorageError(`${file} is not a file`);
    } catch (error) {
      throw this.wrap(error, `cannot read ${key}`);
    }
    return file;
  }

  stagedBytes(): Promise<number> {
    return Promise.resolve(0);
  }

  async upload(localPath: string, key: string): Promise<void> {
    const target = this.pathOf(key);
    if (path.resolve(localPath) === target) return;
    await this.replaceAtomically(target, async (temp) => {
      await fs.copyFile(localPath, temp, constants.COPYFILE_FICLONE);
      const handle = await fs.open(temp, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }).catch((error: unknown) => {
      throw this.wrap(error, `cannot upload ${localPath} to ${key}`);
    });
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      return await fs.readFile(this.pathOf(key), "utf8");
    } catch (error) {
      if (isErrno(error, "ENOENT")) return undefined;
      throw this.wrap(error, `cannot read ${key}`);
    }
  }

  async writeText(key: string, body: string): Promise<void> {
    const target = this.pathOf(key);
    await this.replaceAtomically(target, (temp) => writeSynced(temp, body)).catch((error: unknown) => {
      throw this.wrap(error, `cannot write ${key}`);
    });
  }

  /**
   * Writes a complete temporary file and hard-links it to the target name: link fails with EEXIST like
   * O_EXCL, and a reader never sees the file half-written.
   */
  async createIfAbsent(key: string, body: string): Promise<string | undefined> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    try {
      await makeDirs(dir);
      const temp = tempPath(target);
      try {
        await writeSynced(temp, body);
        await fs.link(temp, target);
      } finally {
        await fs.rm(temp, { force: true });
      }
      await syncDirectory(dir);
      return versionOf(body);
    } catch (error) {
      if (isErrno(error, "EEXIST")) return undefined;
      throw this.wrap(error, `cannot create ${key}`);
    }
  }

  async readVersioned(key: string): Promise<VersionedText | undefined> {
    const text = await this.readText(key);
    return text === undefined ? undefined : { text, version: versionOf(text) };
  }

  async replaceIfVersion(key: string, body: string, version: string): Promise<string | undefined> {
    const target = this.pathOf(key);
    try {
      const claimed = await this.claim(target, version);
      if (!claimed) return undefined;
      try {
        await this.replaceAtomically(target, (temp) => writeSynced(temp, body));
      } finally {
        await this.dropClaims(target, version);
      }
      return versionOf(body);
    } catch (error) {
      throw this.wrap(error, `cannot replace ${key}`);
    }
  }

  async deleteIfVersion(key: string, version: string): Promise<boolean> {
    const target = this.pathOf(key);
    try {
      const claimed = await this.claim(target, version);
      if (!claimed) return false;
      try {
        await fs.unlink(target);
        await syncDirectory(path.dirname(target));
      } finally {
        await this.dropClaims(target, version);
      }
      // Like delete: a released run lock leaves no empty `_state/` behind.
      await this.removeEmptyDirs(path.dirname(target));
      return true;
    } catch (error) {
      throw this.wrap(error, `cannot delete ${key}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const file = this.pathOf(key);
      try {
        await fs.unlink(file);
      } catch (error) {
        if (isErrno(error, "ENOENT")) continue;
        throw this.wrap(error, `cannot delete ${key}`);
      }
      await this.removeEmptyDirs(path.dirname(file));
    }
  }

  /**
   * A rename, atomic like every write here; both directories are fsynced. A source that is gone while the
   * target exists is a move already done (by an earlier, interrupted caller).
   */
  async move(fromKey: string, toKey: string): Promise<void> {
    const source = this.pathOf(fromKey);
    const target = this.pathOf(toKey);
    try {
      await makeDirs(path.dirname(target));
      const moved = await fs.rename(source, target).then(
        () => true,
        async (error: unknown) => {
          if (isErrno(error, "ENOENT") && (await isFile(target))) return false;
          throw error;
        },
      );
      await syncDirectory(path.dirname(target));
      if (moved) {
        await syncDirectory(path.dirname(source));
        await this.removeEmptyDirs(path.dirname(source));
      }
    } catch (error) {
      throw this.wrap(error, `cannot move ${fromKey} to ${toKey}`);
    }
  }

  /**
   * Takes the claim on version `version` of `target`: true when this caller alone may now change it
   * (the claim is new, and the file still holds that version); false when someone else holds a live
   * claim on it, or the file no longer holds it.
   */
  private async claim(target: string, version: string): Promise<boolean> {
    if ((await currentVersion(target)) !== version) return false;
    const dir = path.dirname(target);
    const prefix = claimPrefix(target, version);
    let generation = 0;
    let newest: string | undefined;
    for (const name of await fs.readdir(dir)) {
      if (!name.startsWith(prefix)) continue;
      const n = Number(name.slice(prefix.length));
      if (Number.isSafeInteger(n) && n >= generation) {
        generation = n + 1;
        newest = name;
      }
    }
    if (newest !== undefined && !(await claimIsStale(path.join(dir, newest)))) return false;
    const claimFile = path.join(dir, `${prefix}${generation}`);
    try {
      await writeSynced(claimFile, JSON.stringify({ host: os.hostname(), pid: process.pid, at: Date.now() }));
    } catch (error) {
      if (isErrno(error, "EEXIST")) return false;
      throw error;
    }
    // Any change away from `version` needs a claim on it, and the newest one is ours: if the file still
    // holds `version` now, it keeps it until we change it.
    if ((await currentVersion(target)) === version) return true;
    await fs.rm(claimFile, { force: true });
    return false;
  }

  /** Removes the claims on a version the file no longer holds (a late claimant re-checks and gives up). */
  private async dropClaims(target: string, version: string): Promise<void> {
    const dir = path.dirname(target);
    const prefix = claimPrefix(target, version);
    for (const name of await fs.readdir(dir)) {
      if (name.startsWith(prefix)) await fs.rm(path.join(dir, name), { force: true });
    }
  }

  /** Removes `dir` and its parents up to the root while they are empty: as on S3, no empty "folders". */
  private async removeEmptyDirs(dir: string): Promise<void> {
    for (let current = dir; current.startsWith(this.root + path.sep); current = path.dirname(current)) {
      // Not empty (or gone): its parents are not empty either.
      if (
        !(await fs.rmdir(current).then(
          () => true,
          () => false,
        ))
      )
        return;
    }
  }

  private pathOf(key: string): string {
    assertValidKey(key, this.uri);
    return path.join(this.root, ...key.split("/"));
  }

  private async walk(relativeDir: string, into: StoredObject[]): Promise<void> {
    const dir = relativeDir === "" ? this.root : path.join(this.root, ...relativeDir.split("/"));
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      // A prefix with nothing under it lists as empty, as on S3.
      if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return;
      throw this.wrap(error, `cannot list ${relativeDir === "" ? "the root" : relativeDir}`);
    }
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
      const stat = await fs.stat(path.join(dir, entry.name), { bigint: true });
      if (stat.isDirectory()) {
        await this.walk(key, into);
      } else if (stat.isFile()) {
        into.push({
          key,
          size: Number(stat.size),
          etag: `${stat.mtimeNs.toString(16)}-${stat.size.toString(16)}`,
        });
      }
    }
  }

  /** Writes through `fill(tempPath)` and renames the temp file over `target`; no partial target ever. */
  private async replaceAtomically(target: string, fill: (temp: string) => Promise<void>): Promise<void> {
    const dir = path.dirname(target);
    await makeDirs(dir);
    const temp = tempPath(target);
    try {
      await fill(temp);
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(dir);
  }

  private wrap(error: unknown, what: string): StorageError {
    if (error instanceof StorageError) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new StorageError(`${this.uri}: ${what}: ${reason}`, { cause: error });
  }
}

function tempPath(target: string): string {
  return path.join(
    path.dirname(target),
    `${TEMP_PREFIX}${randomBytes(6).toString("hex")}-${path.basename(target)}`,
  );
}

/** The version tag of a file's content (see VersionedText). */
function versionOf(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

async function currentVersion(file: string): Promise<string | undefined> {
  try {
    return versionOf(await fs.readFile(file, "utf8"));
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

function claimPrefix(target: string, version: string): string {
  return `${TEMP_PREFIX}claim-${path.basename(target)}-${version}.`;
}

/** A claim whose holder crashed: older than CLAIM_STALE_MS, or made on this host by an exited process. */
async function claimIsStale(file: string): Promise<boolean> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return true; // dropped meanwhile: its swap is done
    throw error;
  }
  let claim: { host?: unknown; pid?: unknown; at?: unknown } = {};
  try {
    claim = JSON.parse(text) as typeof claim;
  } catch {
    // Written half before a crash: judged by age alone.
  }
  const at = typeof claim.at === "number" ? claim.at : (await fs.stat(file)).mtimeMs;
  if (!(Date.now() - at < CLAIM_STALE_MS)) return true;
  return claim.host === os.hostname() && typeof claim.pid === "number" && !processAlive(claim.pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, "EPERM");
  }
}

/** Creates `file` (failing with EEXIST if it exists), writes `body` and fsyncs it. */
async function writeSynced(file: string, body: string): Promise<void> {
  const handle = await fs.open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  try {
    await handle.writeFile(body, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory so a rename or create inside it is durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (stat) => stat.isFile(),
    () => false,
  );
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as NodeJS.ErrnoException).code === code;
}
