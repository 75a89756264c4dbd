import * as os from "node:os";
import { Scd2Error } from "../errors";
import type { Storage } from "../storage/storage";
import { STATE_DIR } from "./manifest";

export const LOCK_KEY = `${STATE_DIR}/lock`;
/** A lock not refreshed for this long is taken over: its holder is gone (a live run refreshes it). */
export const DEFAULT_LOCK_STALE_MS = 6 * 60 * 60 * 1000;

export interface LockBody {
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
  /** When the holder last refreshed the lock (its heartbeat); older locks lack it and use startedAt. */
  refreshedAt?: string;
}

/** How often a run refreshes its lock by default: a quarter of the stale limit, 1 s to 5 min. */
export function defaultHeartbeatMs(staleMs: number): number {
  return Math.min(5 * 60_000, Math.max(1000, Math.floor(staleMs / 4)));
}

/** Whether a process with this id exists on this host (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Why a lock can be taken over, or undefined while its holder may still run: it was not refreshed for
 * `staleMs`, or it was taken on this host by a process that no longer exists (a killed run).
 */
export function staleReason(body: LockBody | undefined, now: Date, staleMs: number): string | undefined {
  if (body === undefined) return "its content is unreadable";
  const age = now.getTime() - Date.parse(body.refreshedAt ?? body.startedAt);
  if (!(age < staleMs)) return `it was not refreshed for ${Math.round(staleMs / 60000)} minutes`;
  if (body.host === os.hostname() && body.pid !== process.pid && !processAlive(body.pid)) {
    return `process ${body.pid} on this host has exited`;
  }
  return undefined;
}

export function parseLockBody(text: string | undefined): LockBody | undefined {
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

function describeHolder(held: LockBody | undefined): string {
  return held
    ? `run ${held.runId} (host ${held.host}, pid ${held.pid}, since ${held.startedAt})`
    : "another run";
}

export interface LockOptions {
  /** A lock not refreshed for this long is taken over (DEFAULT_LOCK_STALE_MS). */
  staleMs: number;
  /** How often the holder refreshes the lock; default defaultHeartbeatMs(staleMs). */
  heartbeatMs?: number;
  /** Called before a stale lock is taken over, with the reason. */
  onStale?: (reason: string) => void;
  /** Called once when a refresh finds the lock taken over or deleted. */
  onLost?: (error: Scd2Error) => void;
  /** Called when a refresh fails with a storage error (it is retried at the next heartbeat). */
  onRefreshError?: (error: unknown) => void;
}

/** The run lock held by this run; see acquireLock. */
export interface RunLock {
  readonly runId: string;
  /** Set once this run is known to have lost the lock. */
  readonly lost: Scd2Error | undefined;
  /**
   * Reads the lock and throws the Scd2Error of `lost` unless it is still exactly the version this run
   * last wrote. The job calls it before every write to the output.
   */
  confirm(): Promise<void>;
  /** Stops the heartbeat and deletes the lock if it is still this run's version. */
  release(): Promise<void>;
}

class HeldLock implements RunLock {
  lost: Scd2Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Refreshes, confirms and the release run one at a time, so `version` is always current. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private body: LockBody,
    private version: string,
    private readonly heartbeatMs: number,
    private readonly options: LockOptions,
  ) {
    this.schedule();
  }

  get runId(): string {
    return this.body.runId;
  }

  private schedule(): void {
    if (this.stopped || this.lost) return;
    this.timer = setTimeout(() => {
      void this.serial(() => this.refresh()).finally(() => this.schedule());
    }, this.heartbeatMs);
    this.timer.unref();
  }

  private serial<T>(action: () => Promise<T>): Promise<T> {
    const result = this.queue.then(action);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The heartbeat: rewrites the lock with a new refreshedAt, only if it is still this run's version. */
  async refresh(): Promise<void> {
    if (this.stopped || this.lost) return;
    const body = { ...this.body, refreshedAt: new Date().toISOString() };
    try {
      const version = await this.storage.replaceIfVersion(LOCK_KEY, JSON.stringify(body), this.version);
      if (version !== undefined) {
        this.body = body;
        this.version = version;
        return;
      }
      // A failed swap can be a conflicting write that did not land (S3 409): lost only if it changed.
      const current = await this.storage.readVersioned(LOCK_KEY);
      if (current?.version !== this.version) this.markLost(current?.text);
    } catch (error) {
      this.options.onRefreshError?.(error);
    }
  }

  private markLost(text: string | undefined): Scd2Error {
    if (this.lost) return this.lost;
    const now =
      text === undefined ? "it was deleted" : `it is now held by ${describeHolder(parseLockBody(text))}`;
    this.lost = new Scd2Error(
      `${this.storage.uri}/${LOCK_KEY}: run ${this.body.runId} lost its run lock (${now}); ` +
        `it stopped before writing anything more to this output. Run again once the other run is done.`,
    );
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.options.onLost?.(this.lost);
    return this.lost;
  }

  confirm(): Promise<void> {
    return this.serial(async () => {
      if (this.lost) throw this.lost;
      const current = await this.storage.readVersioned(LOCK_KEY);
      if (current?.version !== this.version) throw this.markLost(current?.text);
    });
  }

  release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return this.serial(async () => {
      if (this.lost) return;
      await this.storage.deleteIfVersion(LOCK_KEY, this.version);
    });
  }
}

/**
 * Takes the run lock `_state/lock` (Storage.createIfAbsent: O_EXCL locally, a conditional PUT on S3).
 * A second run fails with an Scd2Error naming the holder. A stale lock (see staleReason) is taken over
 * with a compare-and-swap on the version that was read (Storage.replaceIfVersion), so of several runs
 * that find the same stale lock exactly one takes it; the others fail naming it. The holder refreshes
 * the lock every `heartbeatMs` the same way; a refresh that finds the lock changed marks it lost, and
 * `confirm()` then throws.
 */
export async function acquireLock(storage: Storage, runId: string, options: LockOptions): Promise<RunLock> {
  const heartbeatMs = options.heartbeatMs ?? defaultHeartbeatMs(options.staleMs);
  const startedAt = new Date().toISOString();
  const body: LockBody = { runId, host: os.hostname(), pid: process.pid, startedAt, refreshedAt: startedAt };
  const text = JSON.stringify(body);
  const held = (version: string) => new HeldLock(storage, body, version, heartbeatMs, options);
  let current: LockBody | undefined;
  // A lock released between our create and read is simply retried.
  for (let attempt = 0; attempt < 3; attempt++) {
    const created = await storage.createIfAbsent(LOCK_KEY, text);
    if (created !== undefined) return held(created);
    const found = await storage.readVersioned(LOCK_KEY);
    if (found === undefined) continue;
    current = parseLockBody(found.text);
    const reason = staleReason(current, new Date(), options.staleMs);
    if (reason === undefined) break;
    options.onStale?.(reason);
    const swapped = await storage.replaceIfVersion(LOCK_KEY, text, found.version);
    if (swapped !== undefined) return held(swapped);
    // Another run took it over (or its holder refreshed it) first: name whoever holds it now.
    current = parseLockBody((await storage.readVersioned(LOCK_KEY))?.text) ?? current;
    break;
  }
  throw new Scd2Error(
    `${storage.uri}/${LOCK_KEY} is held by ${describeHolder(current)}: another cdc-scd2 run is writing this output. ` +
      `Wait for it, or delete the lock if you are sure it is gone.`,
  );
}
