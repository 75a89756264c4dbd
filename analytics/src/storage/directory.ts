import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import * as path from "node:path";
import { StorageError, assertValidKey, compareKeys } from "./keys";
import type { Storage, StoredObject } from "./storage";

/** Temporary files of in-flight writes start with this; `list` never returns them. */
const TEMP_PREFIX = ".cdc-tmp-";

/**
 * Storage in a local directory. Writes go to a temporary file in the target directory, are fsynced, then
 * renamed over the target (rename is atomic on POSIX file systems), and the directory is fsynced so the
 * rename survives a crash. The directory and its parents are created on the first write.
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

  async createExclusive(key: string, body: string): Promise<boolean> {
    const target = this.pathOf(key);
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await writeSynced(target, body);
      await syncDirectory(path.dirname(target));
      return true;
    } catch (error) {
      if (isErrno(error, "EEXIST")) return false;
      throw this.wrap(error, `cannot create ${key}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await fs.unlink(this.pathOf(key));
      } catch (error) {
        if (!isErrno(error, "ENOENT")) throw this.wrap(error, `cannot delete ${key}`);
      }
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
    await fs.mkdir(dir, { recursive: true });
    const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(6).toString("hex")}-${path.basename(target)}`);
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

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as NodeJS.ErrnoException).code === code;
}
