import { describe, expect, it } from "vitest";
import { discoverSourceFiles, parseSourceKey } from "../../analytics/src/discovery";

const T = "cdc.commerce.products";
const object = (key: string) => ({ key, size: 1, etag: "e" });

describe("parseSourceKey", () => {
  it.each([
    [`${T}/partition=0/${T}+0+0000000000.snappy.parquet`, 0, 0, "parquet"],
    [`${T}/partition=3/${T}+3+0000001000.parquet`, 3, 1000, "parquet"],
    [`${T}/partition=1/${T}+1+0000000042.gz.parquet`, 1, 42, "parquet"],
    [`${T}/partition=1/${T}+1+0000000042.zstd.parquet`, 1, 42, "parquet"],
    [`${T}/partition=0/${T}+0+0000000007.json`, 0, 7, "json"],
    [`${T}/partition=0/${T}+0+0000000007.json.gz`, 0, 7, "json"],
    [`${T}/partition=0/${T}+0+12345678901.json`, 0, 12345678901, "json"],
  ])("%s", (key, partition, startOffset, format) => {
    expect(parseSourceKey(object(key), T)).toEqual({
      key,
      etag: "e",
      size: 1,
      topic: T,
      partition,
      startOffset,
      format,
    });
  });

  it.each([
    [`${T}/${T}+0+0000000000.parquet`, /not in a partition directory/],
    [`${T}/p=0/${T}+0+0000000000.parquet`, /is not partition=<n>/],
    [`${T}/partition=0/${T}+0+000000000.parquet`, /name is not/],
    [`${T}/partition=0/${T}+0+0000000000.csv`, /name is not/],
    [`${T}/partition=0/other.topic+0+0000000000.parquet`, /file names topic other\.topic/],
    [`${T}/partition=0/${T}+1+0000000000.parquet`, /file names partition 1, directory says 0/],
    [`${T}/partition=0/sub/${T}+0+0000000000.parquet`, /not in a partition directory/],
  ])("%s is an error naming it", (key, why) => {
    expect(() => parseSourceKey(object(key), T)).toThrow(why);
    expect(() => parseSourceKey(object(key), T)).toThrow(key);
  });

  it("skips hidden files", () => {
    expect(parseSourceKey(object(`${T}/partition=0/.${T}+0+0000000000.parquet.tmp`), T)).toBeUndefined();
  });
});

describe("discoverSourceFiles", () => {
  it("orders files by partition, then offset", () => {
    const keys = [
      `${T}/partition=1/${T}+1+0000000000.parquet`,
      `${T}/partition=0/${T}+0+0000000100.parquet`,
      `${T}/partition=0/${T}+0+0000000020.parquet`,
    ];
    expect(discoverSourceFiles(keys.map(object), T).map((f) => [f.partition, f.startOffset])).toEqual([
      [0, 20],
      [0, 100],
      [1, 0],
    ]);
  });
});
