// How long the SCD2 schedule may go between two runs, read from its EventBridge Scheduler
// expression: the no-successful-run alarm watches two such gaps (docs/deploy.md, "Scheduled runs").

/** The longest gap the alarm can watch: two gaps within CloudWatch's 7-day evaluation limit. */
export const MAX_GAP_MINUTES = (7 * 24 * 60) / 2;

const UNIT_MINUTES: Record<string, number> = { minute: 1, hour: 60, day: 1440 };
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** The values of one cron field (`*`, `n`, `a-b`, steps `a/n` and `*` over n, lists of these), or undefined. */
function cronValues(field: string, min: number, max: number, names: string[] = []): number[] | undefined {
  const value = (text: string): number => {
    const named = names.indexOf(text.toUpperCase());
    if (named >= 0) return named + min;
    return /^\d+$/.test(text) ? Number(text) : NaN;
  };
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const match = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(part);
    if (!match || (match[1] === "*" && match[2] !== undefined)) return undefined;
    const [, first, through, every] = match as unknown as [
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    const from = first === "*" ? min : value(first);
    // `a/n` runs from a to the field's end; a plain `a` is one value.
    const to =
      first === "*" ? max : through !== undefined ? value(through) : every !== undefined ? max : from;
    const step = every === undefined ? 1 : Number(every);
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < min || to > max || from > to || step < 1) {
      return undefined;
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return [...out];
}

/** The longest circular gap between sorted instants within a cycle of `cycle` minutes. */
function longestGap(instants: number[], cycle: number): number {
  const sorted = [...instants].sort((a, b) => a - b);
  return Math.max(
    ...sorted.map(
      (t, i) => (i + 1 < sorted.length ? (sorted[i + 1] as number) : (sorted[0] as number) + cycle) - t,
    ),
  );
}

/**
 * The longest time (minutes) between two runs of a schedule expression (`rate(...)` or
 * `cron(min hour day-of-month month day-of-week year)`), or why it cannot be told: cron schedules
 * with a day-of-month, month or year restriction run at irregular gaps the alarm cannot watch.
 */
export function scheduleGapMinutes(expression: string): { minutes: number } | { problem: string } {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) return { minutes: Number(rate[1]) * (UNIT_MINUTES[rate[2] as string] as number) };
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  if (!cron) return { problem: "is not a rate() or cron() expression" };
  const [, minuteField, hourField, dayOfMonth, month, dayOfWeek, year] = cron as unknown as string[];
  const wildcard = (f: string | undefined) => f === "*" || f === "?";
  if (!wildcard(dayOfMonth) || month !== "*" || year !== "*") {
    return {
      problem:
        "restricts day-of-month, month or year, so its runs are irregular; use rate(<n> days) or days of the week",
    };
  }
  const minutes = cronValues(minuteField as string, 0, 59);
  const hours = cronValues(hourField as string, 0, 23);
  const days = wildcard(dayOfWeek) ? [1, 2, 3, 4, 5, 6, 7] : cronValues(dayOfWeek as string, 1, 7, DAYS);
  if (!minutes || !hours || !days)
    return { problem: "has a minute, hour or day-of-week field this stack cannot read" };
  const instants = days.flatMap((d) => hours.flatMap((h) => minutes.map((m) => (d - 1) * 1440 + h * 60 + m)));
  return { minutes: longestGap(instants, 7 * 1440) };
}

/** The heartbeat alarm's window: two periods of one gap each (CloudWatch periods are whole minutes). */
export function heartbeatWindow(gapMinutes: number): { periodSeconds: number; evaluationPeriods: number } {
  if (gapMinutes < 1 || gapMinutes > MAX_GAP_MINUTES) {
    throw new Error(`a gap of ${gapMinutes} minutes is outside 1-${MAX_GAP_MINUTES}`);
  }
  return { periodSeconds: gapMinutes * 60, evaluationPeriods: 2 };
}
