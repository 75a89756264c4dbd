import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_POLICY,
  backoffDelayMs,
  isRetryable,
  nextRetryDelay,
  type RequestFailure,
} from "../../../connectors/connect-api";
import { resolveRetryPolicy } from "../../../connectors/connect-api/retry";

const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 10_000 };
const top = () => 0.999999; // the largest jitter draw
const half = () => 0.5;

describe("isRetryable", () => {
  it.each<[RequestFailure, boolean]>([
    [{ status: 409 }, true],
    [{ status: 500 }, true],
    [{ status: 500, message: "Request timed out" }, true],
    [
      {
        status: 500,
        message:
          "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Failed to find any class that implements Connector and which name matches x.Y",
      },
      false,
    ],
    [{ status: 502 }, true],
    [{ status: 503 }, true],
    [{ status: 400 }, false],
    [{ status: 401 }, false],
    [{ status: 403 }, false],
    [{ status: 404 }, false],
    [{ status: 422 }, false],
    [{ code: "ECONNRESET" }, true],
    [{ code: "ECONNABORTED" }, true],
    [{ code: "ETIMEDOUT" }, true],
    [{ code: "ECONNREFUSED" }, true],
    [{ code: "ERR_BAD_REQUEST" }, false],
    [{ code: "EUNKNOWN" }, false],
  ])("%j -> %s", (failure, expected) => {
    expect(isRetryable(failure)).toBe(expected);
  });
});

describe("backoffDelayMs (full jitter, capped exponential)", () => {
  it.each([
    [1, half, 50],
    [2, half, 100],
    [3, half, 200],
    [4, half, 400],
    [5, half, 500], // capped at maxDelayMs 1000
    [9, half, 500],
    [1, top, 99],
    [4, top, 799],
    [7, top, 999],
    [3, () => 0, 0],
  ])("retry %i -> %i ms", (retry, random, expected) => {
    expect(backoffDelayMs(retry, policy, random)).toBe(expected);
  });
});

describe("nextRetryDelay", () => {
  it("retries a 409 with the backoff of the attempt number", () => {
    expect(nextRetryDelay({ status: 409 }, 1, 0, policy, half)).toBe(50);
    expect(nextRetryDelay({ status: 409 }, 3, 0, policy, half)).toBe(200);
  });

  it("never retries a 400", () => {
    expect(nextRetryDelay({ status: 400 }, 1, 0, policy, half)).toBeUndefined();
  });

  it("gives up once the attempts are used", () => {
    expect(nextRetryDelay({ status: 503 }, 4, 0, policy, half)).toBe(400);
    expect(nextRetryDelay({ status: 503 }, 5, 0, policy, half)).toBeUndefined();
  });

  it("gives up when the wait would end past maxElapsedMs", () => {
    expect(nextRetryDelay({ code: "ECONNRESET" }, 2, 9_900, policy, half)).toBe(100);
    expect(nextRetryDelay({ code: "ECONNRESET" }, 2, 9_901, policy, half)).toBeUndefined();
  });
});

describe("resolveRetryPolicy", () => {
  it("fills defaults and keeps given values", () => {
    expect(resolveRetryPolicy(undefined)).toEqual(DEFAULT_RETRY_POLICY);
    expect(resolveRetryPolicy({ maxAttempts: 2, baseDelayMs: undefined })).toEqual({
      ...DEFAULT_RETRY_POLICY,
      maxAttempts: 2,
    });
  });
});
