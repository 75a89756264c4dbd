/**
 * The few Java library behaviours that show through Debezium's output: a `java.util.HashMap`'s
 * iteration order (hstore values), `Double.toString` (money read by the snapshot in string mode),
 * Jackson's string escaping (hstore as JSON) and the `(long)` cast of a double (interval micros).
 */

/** `String.hashCode()`: over UTF-16 code units, 32-bit wrap-around. */
export function javaStringHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i += 1) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/**
 * The order a `HashMap` (default capacity 16, load factor 0.75) filled with `keys`, in this order,
 * iterates them: by bucket (`(h ^ h >>> 16) & (capacity - 1)`), then by insertion within a bucket
 * (resizing splits buckets without reordering them). Keys are distinct.
 */
export function javaHashMapOrder(keys: string[]): string[] {
  let capacity = 16;
  while (keys.length > capacity * 0.75) capacity *= 2;
  const bucket = (key: string): number => {
    const h = javaStringHash(key);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return keys
    .map((key, index) => ({ key, index, bucket: bucket(key) }))
    .sort((a, b) => a.bucket - b.bucket || a.index - b.index)
    .map((e) => e.key);
}

/** `Double.toString(d)`: plain from 10^-3 up to 10^7 (at least one fraction digit), else `1.0E7` form. */
export function javaDoubleString(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const plain = String(value);
    return plain.includes(".") ? plain : `${plain}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split("e") as [string, string];
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

const JACKSON_SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** A JSON string as Jackson's JsonGenerator writes it (other control characters as upper-case `\u00XX`). */
export function jacksonString(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    const hex = code.toString(16).toUpperCase().padStart(4, "0");
    out += JACKSON_SHORT_ESCAPES[ch] ?? (code < 0x20 ? `\\u${hex}` : ch);
  }
  return `"${out}"`;
}

/**
 * A double cast to a long as Java does it: toward zero, saturated at -2^63 and 2^63-1. Beyond ±2^53 a
 * bigint holding that long exactly (a number would print its shortest digits, not the long's).
 */
export function javaLong(value: number): number | bigint {
  const truncated = Math.trunc(value);
  if (Number.isSafeInteger(truncated)) return truncated;
  if (truncated >= 2 ** 63) return 9223372036854775807n;
  if (truncated <= -(2 ** 63)) return -9223372036854775808n;
  return BigInt(truncated);
}
