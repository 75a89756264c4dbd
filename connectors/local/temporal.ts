/**
 * PostgreSQL date/time text (DateStyle ISO, TimeZone UTC, IntervalStyle iso_8601: the session
 * settings the runtime sets) to the values Debezium emits, exact for every year PostgreSQL holds:
 * instants are whole seconds plus the fraction's digits, never floating-point microseconds.
 */
import { UnconvertibleValue } from "./pg-numeric";
import { javaLong } from "./java-compat";

const SECONDS_PER_DAY = 86_400;
/** Debezium's MicroDuration counts a month as 365.25 / 12 days. */
const DAYS_PER_MONTH_AVG = 365.25 / 12;

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is 0). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** Julian Day Number of 1970-01-01. */
const JDN_EPOCH = 2_440_588;

/** Days since 1970-01-01 of a Julian-calendar date (astronomical year, from 4800 BC). */
function daysFromJulian(year: number, month: number, day: number): number {
  const a = Math.floor((14 - month) / 12);
  const y = year + 4800 - a;
  const m = month + 12 * a - 3;
  return day + Math.floor((153 * m + 2) / 5) + 365 * y + Math.floor(y / 4) - 32083 - JDN_EPOCH;
}

function julianFromDays(days: number): [number, number, number] {
  const c = days + JDN_EPOCH + 32082;
  const d = Math.floor((4 * c + 3) / 1461);
  const e = c - Math.floor((1461 * d) / 4);
  const m = Math.floor((5 * e + 2) / 153);
  const month = m + 3 - 12 * Math.floor(m / 10);
  return [d - 4800 + Math.floor(m / 10), month, e - Math.floor((153 * m + 2) / 5) + 1];
}

/** 1582-10-15, the first Gregorian day of java.util.GregorianCalendar (Julian before it). */
const GREGORIAN_CUTOVER = daysFromCivil(1582, 10, 15);

/**
 * java.util.GregorianCalendar's (lenient) day of a date: Julian before 1582-10-15, so the dates between
 * 1582-10-04 and 10-15 that PostgreSQL's proleptic calendar holds count on past the switch.
 */
function hybridDays(year: number, month: number, day: number): number {
  const before = year < 1582 || (year === 1582 && (month < 10 || (month === 10 && day < 15)));
  return before ? daysFromJulian(year, month, day) : daysFromCivil(year, month, day);
}

function hybridFromDays(days: number): [number, number, number] {
  return days < GREGORIAN_CUTOVER ? julianFromDays(days) : civilFromDays(days);
}

/** A date/time text's fields; `year` astronomical (a ` BC` suffix read), `seconds` of the day. */
interface DateTimeFields {
  year: number;
  month: number;
  day: number;
  seconds: number;
  /** The fraction's digits as printed (at most 6). */
  fraction: string;
  /** The UTC offset in seconds (0 without one). */
  offset: number;
}

/** The number the digits of text[from, to) spell; NaN if empty or one is not a digit. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  return to > from ? value : NaN;
}

const notA = (what: string, text: string): Error => new Error(`not a ${what}: ${text}`);

/**
 * `YYYY-MM-DD[ HH:MM:SS[.f][±HH[:MM[:SS]]]][ BC]` (years of 4+ digits), read by position: the values of
 * every date and timestamp column pass here, and a regular expression costs several times more.
 */
function parseFields(text: string, what: string): DateTimeFields {
  const end = text.endsWith(" BC") ? text.length - 3 : text.length;
  const y = text.indexOf("-");
  if (y < 4 || text[y + 3] !== "-" || end < y + 6) throw notA(what, text);
  const year = digits(text, 0, y);
  let seconds = 0;
  let fraction = "";
  let offset = 0;
  let i = y + 6;
  if (i < end) {
    if (text[i] !== " " || text[i + 3] !== ":" || text[i + 6] !== ":") throw notA(what, text);
    seconds =
      (digits(text, i + 1, i + 3) * 60 + digits(text, i + 4, i + 6)) * 60 + digits(text, i + 7, i + 9);
    i += 9;
    if (text[i] === ".") {
      let j = i + 1;
      while (j < end && j < i + 7 && text[j]! >= "0" && text[j]! <= "9") j += 1;
      fraction = text.slice(i + 1, j);
      i = j;
    }
    if (i < end) {
      const sign = text[i] === "-" ? -1 : text[i] === "+" ? 1 : NaN;
      offset = digits(text, i + 1, i + 3) * 3600;
      i += 3;
      for (const unit of [60, 1]) {
        if (text[i] !== ":") break;
        offset += digits(text, i + 1, i + 3) * unit;
        i += 3;
      }
      offset *= sign;
    }
  }
  const month = digits(text, y + 1, y + 3);
  const day = digits(text, y + 4, y + 6);
  if (i !== end || Number.isNaN(year + month + day + seconds + offset)) throw notA(what, text);
  return { year: end < text.length ? 1 - year : year, month, day, seconds, fraction, offset };
}

/** An instant: whole seconds since 1970-01-01T00:00Z (exact for every PostgreSQL year) and the fraction's digits. */
export interface Instant {
  seconds: number;
  fraction: string;
}

function parseInstantIn(text: string, days: (f: DateTimeFields) => number): Instant {
  if (text === "infinity" || text === "-infinity") {
    throw new Error(`infinite timestamps are not representable: ${text}`);
  }
  const f = parseFields(text, "timestamp");
  return { seconds: days(f) * SECONDS_PER_DAY + f.seconds - f.offset, fraction: f.fraction };
}

/** `2024-02-29 13:45:00.123456[+00[:30]][ BC]` (timestamp or timestamptz) → its instant (UTC without an offset). */
export function parseInstant(text: string): Instant {
  return parseInstantIn(text, (f) => daysFromCivil(f.year, f.month, f.day));
}

const microsOf = (fraction: string): number => Number(fraction.padEnd(6, "0"));

const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);

/**
 * Microseconds since the epoch as Debezium computes them (`TimeUnit.SECONDS.toMicros(seconds)` + micros): a
 * number while exact, else a bigint; past ±2^63 the seconds part saturates and the sum wraps, as in Java.
 */
export function epochMicros(instant: Instant): number | bigint {
  const micros = microsOf(instant.fraction);
  const value = instant.seconds * 1_000_000 + micros;
  if (Number.isSafeInteger(value)) return value;
  const scaled = BigInt(instant.seconds) * 1_000_000n;
  const saturated = scaled > LONG_MAX ? LONG_MAX : scaled < LONG_MIN ? LONG_MIN : scaled;
  return BigInt.asIntN(64, saturated + BigInt(micros));
}

/** Milliseconds since the epoch, rounded down (`Instant.toEpochMilli`): a number while exact, else a bigint. */
export function epochMillis(instant: Instant): number | bigint {
  const millis = Math.floor(microsOf(instant.fraction) / 1000);
  const value = instant.seconds * 1000 + millis;
  return Number.isSafeInteger(value) ? value : BigInt(instant.seconds) * 1000n + BigInt(millis);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** A year as java.time's ISO formatter prints it: astronomical (1 BC is 0000), at least 4 digits, `+` past 9999. */
function isoYear(year: number): string {
  if (year < 0) return `-${pad(-year, 4)}`;
  return year > 9999 ? `+${year}` : pad(year, 4);
}

/** An instant's day since the epoch and second of that day (UTC). */
function dayAndSecond(instant: Instant): [number, number] {
  const days = Math.floor(instant.seconds / SECONDS_PER_DAY);
  return [days, instant.seconds - days * SECONDS_PER_DAY];
}

function isoDateTime(
  [year, month, day]: [number, number, number],
  inDay: number,
  fraction: string,
  precision: number,
): string {
  const time = `${pad(Math.floor(inDay / 3600))}:${pad(Math.floor(inDay / 60) % 60)}:${pad(inDay % 60)}`;
  const frac = precision > 0 ? `.${fraction.padEnd(6, "0").slice(0, precision)}` : "";
  return `${isoYear(year)}-${pad(month)}-${pad(day)}T${time}${frac}Z`;
}

/** Debezium ZonedTimestamp: ISO-8601 in UTC with `Z`, the fraction padded (or cut) to the column precision. */
export function formatZonedTimestamp(instant: Instant, precision: number): string {
  const [days, inDay] = dayAndSecond(instant);
  return isoDateTime(civilFromDays(days), inDay, instant.fraction, precision);
}

/** A timestamptz as a UTC session prints it for years 1000-9999 AD (the others take the general path). */
const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

/**
 * timestamptz text → Debezium ZonedTimestamp (formatZonedTimestamp of its instant). Text already in UTC
 * is rewritten in place: the same digits, without the round trip through the instant (a tenth of the cost).
 */
export function zonedTimestamp(text: string, precision: number): string {
  const m = UTC_TIMESTAMP.exec(text);
  if (m === null) return formatZonedTimestamp(parseInstant(text), precision);
  const fraction = precision > 0 ? `.${(m[3] ?? "").padEnd(6, "0").slice(0, precision)}` : "";
  return `${m[1]}T${m[2]}${fraction}Z`;
}

/** `2024-02-29[ BC]` → days since epoch. */
export function parseDateDays(text: string): number {
  const f = parseFields(text, "date");
  return daysFromCivil(f.year, f.month, f.day);
}

/*
 * Where Debezium reads a value through pgjdbc's java.sql types (a snapshot's date; the elements of date,
 * timestamp and timestamptz arrays, streamed or not), the JVM's calendar shows: java.util.GregorianCalendar,
 * Julian before 1582-10-15, and LocalDate/LocalDateTime built from its year of era (the BC marker is lost).
 * The JVM's time zone is taken to be UTC, as the session's is.
 */

/**
 * LocalDate.of(year of era, month, day) of calendar fields. A 29 February the year of era lacks (1 BC is
 * a leap year, 1 AD not) fails that conversion: Debezium emits null (an array holding it is null whole).
 */
function yearOfEraDate(text: string, [year, month, day]: [number, number, number]): [number, number, number] {
  const y = year <= 0 ? 1 - year : year;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (month === 2 && day === 29 && !leap) throw new UnconvertibleValue(`${text}: 29 February of ${y} AD`);
  return [y, month, day];
}

/** The day pgjdbc's java.sql.Date → LocalDate gives a date: days since epoch of its fields, the year of era. */
export function jdbcDateDays(text: string): number {
  const f = parseFields(text, "date");
  const [year, month, day] = yearOfEraDate(text, hybridFromDays(hybridDays(f.year, f.month, f.day)));
  return daysFromCivil(year, month, day);
}

/** The instant of a java.sql.Timestamp read from timestamp text: its fields in the Julian-Gregorian calendar. */
export function jdbcInstant(text: string): Instant {
  return parseInstantIn(text, (f) => hybridDays(f.year, f.month, f.day));
}

/** timestamptz text read as java.sql.Timestamp → LocalDateTime (UTC, year of era) → ZonedTimestamp. */
export function jdbcZonedTimestamp(text: string, precision: number): string {
  const instant = jdbcInstant(text);
  const [days, inDay] = dayAndSecond(instant);
  return isoDateTime(yearOfEraDate(text, hybridFromDays(days)), inDay, instant.fraction, precision);
}

const TIME = /(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;

/** `13:45:00.123456` → micros since midnight. */
export function parseTimeMicros(text: string): number {
  const m = TIME.exec(text);
  if (!m) throw new Error(`not a time: ${text}`);
  const micros = Number((m[4] ?? "").padEnd(6, "0"));
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000 + micros;
}

/**
 * `13:45:00.5+02` (timetz) → Debezium ZonedTime: the same instant at UTC, as Java's
 * ISO_OFFSET_TIME prints it (seconds always, fraction without trailing zeros, `Z`).
 */
export function formatZonedTime(text: string): string {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$/.exec(text);
  if (!m) throw new Error(`not a time with time zone: ${text}`);
  const offset = (Number(m[6]) * 60 + Number(m[7] ?? 0)) * 60 + Number(m[8] ?? 0);
  const seconds = (Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3]);
  const utc = (((seconds - (m[5] === "-" ? -offset : offset)) % 86_400) + 86_400) % 86_400;
  const fraction = (m[4] ?? "").replace(/0+$/, "");
  const time = `${pad(Math.floor(utc / 3600))}:${pad(Math.floor(utc / 60) % 60)}:${pad(utc % 60)}`;
  return `${time}${fraction ? `.${fraction}` : ""}Z`;
}

/** Interval seconds (`-3.456789`) as pgjdbc's PGInterval.getSeconds() gives them: whole + micros / 10^6. */
function intervalSeconds(text: string | undefined): number {
  if (text === undefined) return 0;
  const point = text.indexOf(".");
  if (point < 0) return Number(text);
  const micros = Number(text.slice(point + 1).padEnd(6, "0"));
  return Number(text.slice(0, point)) + (text.startsWith("-") ? -micros : micros) / 1e6;
}

/**
 * ISO-8601 interval (`P1Y2M3DT4H5M6.5S`, `P-1D`) → Debezium MicroDuration micros, computed in doubles as
 * MicroDuration.durationMicros does, then cast to a long as Java does (saturating at ±2^63); beyond ±2^53
 * a bigint holding that long exactly.
 */
export function parseIntervalMicros(text: string): number | bigint {
  const m = /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?[\d.]+)S)?)?$/.exec(
    text,
  );
  if (!m) throw new Error(`not an ISO-8601 interval: ${text}`);
  const n = (i: number): number => Number(m[i] ?? 0);
  const days = (n(1) * 12 + n(2)) * DAYS_PER_MONTH_AVG + n(3);
  const seconds = ((days * 24 + n(4)) * 60 + n(5)) * 60 + intervalSeconds(m[6]);
  return javaLong(seconds * 1e6);
}
