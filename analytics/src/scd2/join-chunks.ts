/**
 * Memory a fact (or a placeholder value, besides its bytes) takes in the hash tables of the join back to
 * the values, and what the scan and the Parquet writer beside that join need. Measured on the benchmark
 * (8.6 million facts, 1.2 million placeholder values of 122 bytes): one chunk fits a 1 GB limit; under
 * 512 MB, two chunks fail and three fit.
 */
export const JOIN_BYTES_PER_FACT = 50;
const RESERVED_BYTES = 256 * 2 ** 20;

/** In how many chunks of keys a join holding `joinBytes` runs within `limitBytes` of DuckDB memory. */
export function joinChunks(joinBytes: number, limitBytes: number): number {
  const available = Math.max(limitBytes - RESERVED_BYTES, limitBytes / 4);
  return Math.max(1, Math.ceil(joinBytes / available));
}
