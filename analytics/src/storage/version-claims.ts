/**
 * Compare-and-swap on local files (DirectoryStorage's replaceIfVersion and deleteIfVersion). A file's
 * version is the SHA-256 of its content. Every change away from version V first creates a claim file
 * for V with O_EXCL, named after V and a generation number, then re-reads the file: only if it still
 * holds V does the change go ahead. Since no change away from V can happen without the claim, of several
 * callers swapping V at most one succeeds; the others find the claim taken or the file changed. A claim
 * left by a crashed caller (see CLAIM_STALE_MS) is superseded by the next generation, again with O_EXCL.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TEMP_PREFIX, isErrno, writeSynced } from "./local-files";

/**
 * A claim file is held for the few milliseconds of one swap. One older than this, or left on this host
 * by a process that has exited, belongs to a caller that crashed mid-swap.
 */
export const CLAIM_STALE_MS = 60_000;

/** The version tag of a file's content (see VersionedText). */
export function versionOf(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Runs `change` on `target` only if it holds `version` and no one else is changing it away from that
 * version: true when `change` ran, false when the file changed, is gone, or another caller holds the
 * claim. The claims on `version` are dropped afterwards, also when `change` fails.
 */
export async function changeIfVersion(
  target: string,
  version: string,
  change: () => Promise<void>,
): Promise<boolean> {
  if (!(await claim(target, version))) return false;
  try {
    await change();
  } finally {
    await dropClaims(target, version);
  }
  return true;
}

/**
 * Takes the claim on version `version` of `target`: true when this caller alone may now change it
 * (the claim is new, and the file still holds that version); false when someone else holds a live
 * claim on it, or the file no longer holds it.
 */
async function claim(target: string, version: string): Promise<boolean> {
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
async function dropClaims(target: string, version: string): Promise<void> {
  const dir = path.dirname(target);
  const prefix = claimPrefix(target, version);
  for (const name of await fs.readdir(dir)) {
    if (name.startsWith(prefix)) await fs.rm(path.join(dir, name), { force: true });
  }
}

async function currentVersion(file: string): Promise<string | undefined> {
  try {
    return versionOf(await fs.readFile(file, "utf8"));
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

/** Claim files start with TEMP_PREFIX, so `list` hides them like any in-flight write. */
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
    // EPERM: the process exists but belongs to another user.
    return isErrno(error, "EPERM");
  }
}
