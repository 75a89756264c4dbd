/** PostgreSQL log sequence numbers: `16/B374D848` on the wire, a 64-bit integer in Debezium's records. */

export function parseLsn(text: string): bigint {
  const [high, low] = text.split("/");
  if (high === undefined || low === undefined) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * A WAL position as a change record carries it: `lsn` a number (Debezium's `source.lsn`, a long; exact
 * below 2^53, else rounded as Number(bigint) rounds), `text` its exact decimal digits (in
 * `source.sequence`), value() the exact bigint. Built per change: no BigInt on the common path.
 */
export class WalPosition {
  readonly lsn: number;
  readonly text: string;

  constructor(
    private readonly high: number,
    private readonly low: number,
  ) {
    this.lsn = high * 4_294_967_296 + low;
    // Below 2^53 (high < 2^21) the number is exact, so its digits are the bigint's.
    this.text = high < 2_097_152 ? String(this.lsn) : this.value().toString();
  }

  value(): bigint {
    return (BigInt(this.high) << 32n) | BigInt(this.low);
  }
}
