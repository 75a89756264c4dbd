import * as fs from "node:fs/promises";
import { accessSync, constants, mkdirSync, statSync, statfsSync } from "node:fs";
import * as path from "node:path";

/**
 * Creates `dir` and its missing parents, one level at a time from the deepest one that exists.
 * Node's `mkdir(…, { recursive: true })` loops forever under /proc (it gets ENOENT for a parent that
 * `stat` says is missing, forever); this fails with mkdir's own error naming the level it could not make.
 */
export async function makeDirs(dir: string): Promise<void> {
  for (const level of missingLevels(dir)) {
    await fs.mkdir(level).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
}

/** makeDirs, synchronously. */
export function makeDirsSync(dir: string): void {
  for (const level of missingLevels(dir)) {
    try {
      mkdirSync(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** The levels of `dir` below its deepest existing ancestor, outermost first. */
function missingLevels(dir: string): string[] {
  const levels: string[] = [];
  for (let level = path.resolve(dir); ; level = path.dirname(level)) {
    if (exists(level)) break;
    levels.unshift(level);
    if (path.dirname(level) === level) break;
  }
  return levels;
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Kernel file systems (statfs f_type): they accept some mkdir calls but are no place for output. */
const KERNEL_FILE_SYSTEMS = new Map([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x64626720, "debugfs"],
  [0x73636673, "securityfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
]);

/**
 * Why the job could not create and write `dir` (its deepest existing level is not a directory, is not
 * writable, or lies on a kernel file system such as /proc), or undefined when nothing speaks against it.
 * Checked before a run, so a bad location fails at once instead of after the input was read.
 */
export function unusableDirReason(dir: string): string | undefined {
  const missing = missingLevels(dir);
  const existing = missing.length > 0 ? path.dirname(missing[0]!) : path.resolve(dir);
  try {
    if (!statSync(existing).isDirectory()) return `${existing} is not a directory`;
    const kind = KERNEL_FILE_SYSTEMS.get(statfsSync(existing).type);
    if (kind !== undefined) return `${existing} is on the kernel's ${kind} file system, not on storage`;
    accessSync(existing, constants.W_OK);
  } catch (error) {
    return `${existing} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  return undefined;
}
