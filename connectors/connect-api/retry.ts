// Retry policy of the Connect REST client, as pure functions: which failures are retried and how long to
// wait before the next attempt. The client applies it; tests drive it with their own `random`.
import type { ConnectorRetry } from "./types";

export type RetryPolicy = Required<ConnectorRetry>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxElapsedMs: 120_000,
};

/**
 * What went wrong with one attempt: an HTTP status (with Connect's error message, when it sent one), or a
 * transport error code (`ECONNRESET`, ...).
 */
export type RequestFailure = { status: number; message?: string } | { code: string };

// 500s that another attempt cannot change: Connect 4 answers a validate for a plugin class no worker has
// with a 500 (a BadRequestException it does not map to 400).
const PERMANENT_SERVER_ERRORS = [/Failed to find any class that implements Connector/];

// Transport failures worth another attempt: timeouts, dropped connections, and a worker that is not
// listening yet (a Connect service that is still starting during the same `pulumi up`). An array, not a
// Set: the provider is serialized into the state, and closure serialization drops a Set's contents.
const RETRYABLE_CODES = [
  "ECONNABORTED",
  "ETIMEDOUT",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "EAI_AGAIN",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
];

/**
 * 409 (rebalance in progress), any 5xx (500 is also Connect's request timeout) but those that name a missing
 * plugin, and transient transport errors.
 */
export function isRetryable(failure: RequestFailure): boolean {
  if ("status" in failure) {
    if (failure.status === 409) return true;
    const message = failure.message ?? "";
    return failure.status >= 500 && !PERMANENT_SERVER_ERRORS.some((pattern) => pattern.test(message));
  }
  return RETRYABLE_CODES.includes(failure.code);
}

/** Full-jitter backoff before retry number `retry` (1 = the first retry): random in [0, min(cap, base * 2^(retry-1))). */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The delay before the next attempt, or `undefined` to give up: the failure is not retryable, the
 * attempts are used up, or the wait would end past `maxElapsedMs` since the first attempt.
 */
export function nextRetryDelay(
  failure: RequestFailure,
  attemptsMade: number,
  elapsedMs: number,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  if (!isRetryable(failure) || attemptsMade >= policy.maxAttempts) return undefined;
  const delay = backoffDelayMs(attemptsMade, policy, random);
  return elapsedMs + delay > policy.maxElapsedMs ? undefined : delay;
}

/** Fills defaults and rejects nonsense (`check` reports the same problems earlier, per property). */
export function resolveRetryPolicy(retry: ConnectorRetry | undefined): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...stripUndefined(retry ?? {}) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
