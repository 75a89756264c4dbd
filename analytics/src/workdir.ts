import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import { hostname } from "node:os";
import * as path from "node:path";
import { processAlive } from "./state/lock";

/** The CLI's default work dirs: `<tmp>/cdc-scd2-XXXXXX` (mkdtemp's six characters). */
const WORK_DIR_NAME = /^cdc-scd2-[A-Za-z0-9]{6}$/;
/** Written into each such dir when it is created: which process on which host uses it. */
const MARKER = ".cdc-scd2-work-dir.json";

interface Marker {
  app: "cdc-scd2";
  host: string;
  pid: number;
  createdAt: string;
}

/** A fresh work dir under `root`, marked as this process's (see removeStaleWorkDirs). */
export function createWorkDir(root: string): string {
  const dir = mkdtempSync(path.join(root, "cdc-scd2-"));
  const marker: Marker = {
    app: "cdc-scd2",
    host: hostname(),
    pid: process.pid,
    createdAt: new Date().toISOString(),
  };
  // Written beside and renamed into place: whoever reads it (a later run's clean-up, an operator's
  // script) sees the whole marker or none.
  const file = path.join(dir, MARKER);
  writeFileSync(`${file}.tmp`, JSON.stringify(marker));
  renameSync(`${file}.tmp`, file);
  return dir;
}

/** The marker of a work dir, if it has a well-formed one. */
async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    const file = path.join(dir, MARKER);
    if (!(await fs.lstat(file)).isFile()) return undefined;
    const marker = JSON.parse(await fs.readFile(file, "utf8")) as Partial<Marker>;
    const valid =
      marker.app === "cdc-scd2" && typeof marker.host === "string" && Number.isInteger(marker.pid);
    return valid ? (marker as Marker) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the work dirs under `root` that killed runs left behind (a stopped run removes its own; a
 * SIGKILL leaves spill files and downloads that can fill the disk). Only what is provably such a dir
 * goes: a real directory (not a link) named like createWorkDir's, owned by this user, whose marker names
 * a process on this host that no longer exists. A dir without a marker (or another host's) is left alone.
 * Returns the dirs removed.
 */
export async function removeStaleWorkDirs(root: string): Promise<string[]> {
  const removed: string[] = [];
  const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || !WORK_DIR_NAME.test(entry.name)) continue;
    const dir = path.join(root, entry.name);
    const stat = await fs.lstat(dir).catch(() => undefined);
    if (!stat?.isDirectory() || stat.uid !== process.getuid?.()) continue;
    const marker = await readMarker(dir);
    if (!marker || marker.host !== hostname() || marker.pid === process.pid || processAlive(marker.pid))
      continue;
    await fs.rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
