/**
 * The local directory's guards: one `npm start` at a time (a pid lock held while it runs), and
 * `--fresh` deletes only a directory npm start provably made (its marker file, no foreign entries)
 * with no server running on it.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { isPidAlive, runningPostmasterPid } from "./postgres";

/** What npm start writes into the local directory. */
export const LOCAL_ENTRIES = ["pg", "bucket", "scd2", "connectors"];
/** Held (with this process's pid) while npm start runs on the directory. */
export const LOCK_FILE = "npm-start.pid";
/** Written into a directory npm start created (or found empty): the proof `--fresh` may wipe it. */
export const MARKER_FILE = ".npm-start-dir";
const MARKER_TEXT = "created by npm start: it holds only pg/, bucket/, scd2/ and connectors/\n";

/** The pid in the lock file, if that process is alive and is not this one. */
function lockHolder(lockPath: string): number | undefined {
  const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isPidAlive(pid) ? pid : undefined;
}

/** Takes the lock (a stale one, whose process is gone, is replaced); returns its release. */
function lock(localDir: string): () => void {
  const lockPath = join(localDir, LOCK_FILE);
  for (;;) {
    try {
      const fd = openSync(lockPath, "wx");
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = lockHolder(lockPath);
      if (holder !== undefined)
        throw new Error(`npm start is already running on ${localDir} (pid ${holder}); stop it first`);
      rmSync(lockPath, { force: true });
    }
  }
}

/** `--fresh`: refuses a directory npm start did not make, or one a PostgreSQL server still runs on. */
function wipe(localDir: string, entries: string[]): void {
  const foreign = entries.filter((e) => ![...LOCAL_ENTRIES, MARKER_FILE].includes(e));
  if (foreign.length > 0)
    throw new Error(
      `refusing to wipe ${localDir}: it holds ${foreign.join(", ")}, which npm start did not create`,
    );
  if (!existsSync(join(localDir, MARKER_FILE)))
    throw new Error(
      `refusing to wipe ${localDir}: it has no ${MARKER_FILE} marker, so npm start did not create it (remove it yourself if it is yours to lose)`,
    );
  const pid = runningPostmasterPid(join(localDir, "pg"));
  if (pid !== undefined)
    throw new Error(
      `refusing to wipe ${localDir}: a PostgreSQL server (pid ${pid}) is running on ${join(localDir, "pg")}`,
    );
  for (const entry of LOCAL_ENTRIES) rmSync(join(localDir, entry), { recursive: true, force: true });
}

/**
 * Claims `localDir` for this run (creating it), wiping it first with `fresh`; returns the release of
 * the claim. Throws, deleting nothing, if another npm start holds it.
 */
export function claimLocalDir(localDir: string, fresh: boolean): () => void {
  mkdirSync(localDir, { recursive: true, mode: 0o755 });
  const release = lock(localDir);
  try {
    const entries = readdirSync(localDir).filter((e) => e !== LOCK_FILE);
    if (fresh && entries.length > 0) wipe(localDir, entries);
    if (entries.length === 0) writeFileSync(join(localDir, MARKER_FILE), MARKER_TEXT);
  } catch (err) {
    release();
    throw err;
  }
  return release;
}
