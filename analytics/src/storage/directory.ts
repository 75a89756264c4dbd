import { constants, promises as fs } from "node:fs";
import * as path from "node:path";
import { makeDirs } from "../mkdirs";
import { StorageError, assertValidKey, compareKeys, storageFailure } from "./keys";
import {
  TEMP_PREFIX,
  isErrno,
  isFile,
  syncDirectory,
  tempPath,
  writeSynced,
  writeThroughTemp,
} from "./local-files";
import type { Storage, StoredObject, VersionedText } from "./storage";
import { changeIfVersion, versionOf } from "./version-claims";

// How long a crashed swap blocks the next one is part of this backend's behaviour (its tests use it).
export { CLAIM_STALE_MS } from "./version-claims";

/**
 * Storage in a local directory. Writes go to a temporary file in the target directory, are fsynced, then
 * renamed over the target (rename is atomic on POSIX file systems), and the directory is fsynced so the
 * rename survives a crash. The directory and its parents are created on the first write, and removed
 * again when a delete or move leaves them empty (as S3 has no empty "folders"; a write racing the delete
 * that empties its directory could fail, which the job's one-writer-at-a-time run lock rules out).
 *
 * Compare-and-swap (replaceIfVersion, deleteIfVersion): a file's version is the SHA-256 of its content,
 * and a change away from a version first takes an O_EXCL claim file on it (see version-claims.ts), so of
 * several callers swapping the same version at most one succeeds.
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
      await linkOrCopy(localPath, temp);
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
      const replaced = await changeIfVersion(target, version, () =>
        this.replaceAtomically(target, (temp) => writeSynced(temp, body)),
      );
      return replaced ? versionOf(body) : undefined;
    } catch (error) {
      throw this.wrap(error, `cannot replace ${key}`);
    }
  }

  async deleteIfVersion(key: string, version: string): Promise<boolean> {
    const target = this.pathOf(key);
    try {
      const deleted = await changeIfVersion(target, version, async () => {
        await fs.unlink(target);
        await syncDirectory(path.dirname(target));
      });
      if (!deleted) return false;
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

  /** writeThroughTemp into a directory made first, fsynced after so the rename survives a crash. */
  private async replaceAtomically(target: string, fill: (temp: string) => Promise<void>): Promise<void> {
    const dir = path.dirname(target);
    await makeDirs(dir);
    await writeThroughTemp(target, fill);
    await syncDirectory(dir);
  }

  private wrap(error: unknown, what: string): StorageError {
    return storageFailure(this.uri, what, error);
  }
}

/**
 * A hard link to `from` at `to` when both are on one file system, else a copy (or a copy-on-write clone).
 * The job's files are written once in its scratch dir and never changed after their upload, so the link
 * saves copying them: 70-114 ms against 465 ms for a 518 MB history file, fsync included.
 */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fs.link(from, to);
  } catch (error) {
    if (!["EXDEV", "EPERM", "ENOTSUP", "EMLINK"].some((code) => isErrno(error, code))) throw error;
    await fs.copyFile(from, to, constants.COPYFILE_FICLONE);
  }
}
