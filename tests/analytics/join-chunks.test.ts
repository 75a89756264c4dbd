import { describe, expect, it } from "vitest";
import { JOIN_BYTES_PER_FACT, joinChunks } from "../../analytics/src/scd2/join-chunks";

const MiB = 2 ** 20;
const benchmark = 8_600_000 * JOIN_BYTES_PER_FACT + 1_200_000 * (JOIN_BYTES_PER_FACT + 122);

describe("joinChunks", () => {
  it.each([
    ["nothing to join", 0, 1024 * MiB, 1],
    ["the benchmark under the default 1 GB limit (953.6 MiB)", benchmark, 953.6 * MiB, 1],
    ["the benchmark under 512 MB (488.2 MiB)", benchmark, 488.2 * MiB, 3],
    ["exactly what is available", 768 * MiB, 1024 * MiB, 1],
    ["one byte more", 768 * MiB + 1, 1024 * MiB, 2],
    ["a limit below the reserve: a quarter of it is used", 10 * MiB, 100 * MiB, 1],
    ["a limit below the reserve, more to join", 26 * MiB, 100 * MiB, 2],
  ])("%s", (_name, bytes, limit, chunks) => {
    expect(joinChunks(bytes, limit)).toBe(chunks);
  });
});
