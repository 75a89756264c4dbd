/** Durable file replacement: write a temp file, fsync it, rename it into place, fsync the directory. */
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { connectorNameProblem } from "./connector-name";

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Directories this process made: a file's write skips two mkdir calls (5% of the runtime's main thread). */
const madeDirs = new Set<string>();

async function ensureDir(dir: string): Promise<void> {
  if (madeDirs.has(dir)) return;
  await mkdir(dir, { recursive: true });
  madeDirs.add(dir);
}

/**
 * Runs `write(tempPath)`, then makes the result durable at `target`. The temp file lives in
 * `tempDir` (same file system) so readers listing the target directory never see partial files; if
 * the write, its fsync or the rename fails, the temp file is removed before the error is thrown.
 */
export async function writeDurably(
  target: string,
  write: (tempPath: string) => Promise<void>,
  tempDir = dirname(target),
): Promise<void> {
  const dir = dirname(target);
  const attempt = async (): Promise<void> => {
    await ensureDir(dir);
    await ensureDir(tempDir);
    const temp = join(tempDir, `.tmp-${randomBytes(6).toString("hex")}`);
    try {
      await write(temp);
      await fsyncPath(temp);
      await rename(temp, target);
    } catch (err) {
      // The temp file is this attempt's own (its name was just drawn): a failed write (a full disk, a
      // failed encoder) leaves nothing behind. Its own failure would hide the write's.
      await rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
    await fsyncPath(dir);
  };
  try {
    await attempt();
  } catch (err) {
    // A directory removed since it was made: make it again, once.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    madeDirs.delete(dir);
    madeDirs.delete(tempDir);
    await attempt();
  }
}

/**
 * Where the local runtime keeps a connector's offsets: `<bucketRoot>/.connect-offsets/<role>-<name>.json`.
 * Throws for a name that would put the file elsewhere (see connectorNameProblem).
 */
export function offsetFilePath(bucketRoot: string, role: "source" | "sink", connector: string): string {
  const problem = connectorNameProblem(connector);
  if (problem) throw new Error(problem);
  return join(bucketRoot, ".connect-offsets", `${role}-${connector}.json`);
}

/**
 * Offsets stored as JSON, like Connect's offset storage (here a file under the bucket root).
 * Writes are serialized and coalesced: an older value never lands after a newer one.
 */
export class OffsetFile<T> {
  private latest: { value: T } | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  async read(): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.path, "utf8")) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new Error(`cannot read offsets ${this.path}: ${(err as Error).message}`);
    }
  }

  /** Resolves once `value`, or a value written after it, is durable. */
  write(value: T): Promise<void> {
    this.latest = { value };
    // A failed write is reported to its caller; the next one still runs.
    this.writing = this.writing.catch(() => undefined).then(() => this.writeLatest());
    return this.writing;
  }

  private async writeLatest(): Promise<void> {
    const next = this.latest;
    if (next === undefined) return;
    this.latest = undefined;
    await writeDurably(this.path, async (temp) => {
      await writeFile(temp, `${JSON.stringify(next.value, null, 2)}\n`);
    });
  }

  /** Waits for every write issued so far (their failures went to their callers). */
  settled(): Promise<void> {
    return this.writing.catch(() => undefined);
  }
}
