import * as os from "node:os";
import { Scd2Error } from "../errors";
import type { Storage } from "../storage/storage";
import { STATE_DIR } from "./manifest";

export const LOCK_KEY = `${STATE_DIR}/lock`;
/** A lock older than this is taken over: no run takes that long, so its holder is gone. */
export const DEFAULT_LOCK_STALE_MS = 6 * 60 * 60 * 1000;

interface LockBody {
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Why a lock can be taken over, or undefined while its holder may still run: it is older than
 * `staleMs`, or it was taken on this host by a process that no longer exists (a killed run).
 */
export function staleReason(body: LockBody | undefined, now: Date, staleMs: number): string | undefined {
  if (body === undefined) return "its content is unreadable";
  const age = now.getTime() - Date.parse(body.startedAt);
  if (!(age < staleMs)) return `it is older than ${Math.round(staleMs / 60000)} minutes`;
  if (body.host === os.hostname() && body.pid !== process.pid && !processAlive(body.pid)) {
    return `process ${body.pid} on this host has exited`;
  }
  return undefined;
}

function parseBody(text: string | undefined): LockBody | undefined {
  try {
    const body = JSON.parse(text ?? "") as Partial<LockBody>;
    const valid = typeof body.runId === "string" && typeof body.host === "string";
    return valid && typeof body.pid === "number" && typeof body.startedAt === "string"
      ? (body as LockBody)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the run lock `_state/lock` (Storage.createExclusive: O_EXCL locally, a conditional PUT on S3).
 * A second run fails with an Scd2Error naming the holder. A stale lock (see staleReason) is deleted and
 * taken once; if another run takes it first, this one fails. Returns the release function.
 */
export async function acquireLock(
  storage: Storage,
  runId: string,
  staleMs: number,
  onStale: (reason: string) => void,
): Promise<() => Promise<void>> {
  const body: LockBody = {
    runId,
    host: os.hostname(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
  const text = JSON.stringify(body);
  const release = async () => {
    if ((await storage.readText(LOCK_KEY)) === text) await storage.delete([LOCK_KEY]);
  };
  if (await storage.createExclusive(LOCK_KEY, text)) return release;
  const heldText = await storage.readText(LOCK_KEY);
  const held = parseBody(heldText);
  const reason = heldText === undefined ? "it was just released" : staleReason(held, new Date(), staleMs);
  if (reason !== undefined) {
    onStale(reason);
    if (heldText !== undefined) await storage.delete([LOCK_KEY]);
    if (await storage.createExclusive(LOCK_KEY, text)) return release;
  }
  const holder = held
    ? `run ${held.runId} (host ${held.host}, pid ${held.pid}, since ${held.startedAt})`
    : "another run";
  throw new Scd2Error(
    `${storage.uri}/${LOCK_KEY} is held by ${holder}: another cdc-scd2 run is writing this output. ` +
      `Wait for it, or delete the lock if you are sure it is gone.`,
  );
}
