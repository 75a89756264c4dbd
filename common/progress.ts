/**
 * Progress for every command-line tool: bars and step lines on a terminal (cli-progress), structured
 * JSON lines (pino) when stderr is not a terminal, both on stderr so stdout carries only results.
 * Off a terminal a bar becomes `{"event": <bar's event>, "done", "total", ...}` lines, at most one per
 * `jsonIntervalMs` and always the last one, so a log stays readable on a long run.
 */
import { MultiBar, Presets, type SingleBar } from "cli-progress";
import pino, { type Logger } from "pino";

export interface ProgressOptions {
  /** Names the tool in every JSON line (`component`). */
  component: string;
  /** Level of the JSON log. Default "info". */
  level?: string;
  /**
   * Level of the log on a terminal, where each entry is a plain line (its message). Default "warn":
   * tools with bars show only warnings and errors; a tool whose log is its output sets "info".
   */
  terminalLevel?: string;
  /** Bars or JSON lines. Default: bars when stderr is a terminal. */
  interactive?: boolean;
  /** Least time between two JSON lines of one bar. Default 1000 ms. */
  jsonIntervalMs?: number;
  /** Where the bars and the JSON lines go. Default stderr. */
  stream?: NodeJS.WritableStream;
}

export interface ProgressBar {
  /** `done` out of the bar's total, with fields shown after the bar or added to the JSON line. */
  update(done: number, fields?: Record<string, string | number>): void;
  setTotal(total: number): void;
  /** Shows the last state: the bar stays on the terminal; off it, a final JSON line. */
  finish(fields?: Record<string, string | number>): void;
}

export interface Progress {
  /** Structured logger: JSON lines off a terminal; plain lines on one (from `terminalLevel`). */
  readonly logger: Logger;
  readonly interactive: boolean;
  /** A step of the run: a line above the bars, or `{"event": "step", ...fields}` at info level. */
  step(message: string, fields?: Record<string, unknown>): void;
  /** A bar labelled `label` (terminal), or a running count without `total`; `event` names its JSON lines. */
  bar(event: string, label: string, total?: number): ProgressBar;
  /** Stops the bars and flushes the log. */
  close(): void;
}

const formatFields = (fields: Record<string, string | number>): string =>
  Object.entries(fields)
    .map(([key, value]) => (key === "detail" ? String(value) : `${key} ${value}`))
    .join(", ");

function terminalProgress(options: ProgressOptions): Progress {
  // A level the tool asked to quieten further (error, silent) wins over the terminal's default.
  const quieter = ["fatal", "error", "silent"].includes(options.level ?? "");
  const level = quieter ? options.level! : (options.terminalLevel ?? "warn");
  const stream = options.stream ?? process.stderr;
  // MultiBar.log only shows once a bar is drawn: before the first bar, lines are written directly.
  let drawing = false;
  const line = (text: string): void => {
    if (drawing) bars.log(`${text}\n`);
    else stream.write(`${text}\n`);
  };
  const logger = pino(
    { level, base: undefined, timestamp: false },
    { write: (entry: string) => line((JSON.parse(entry) as { msg?: string }).msg ?? "") },
  );
  const bars = new MultiBar(
    {
      format: " {label} [{bar}] {value}/{total} {detail}",
      hideCursor: true,
      clearOnComplete: false,
      stream,
    },
    Presets.shades_classic,
  );
  return {
    logger,
    interactive: true,
    step: line,
    bar(_event, label, total) {
      const bar: SingleBar =
        total === undefined
          ? bars.create(0, 0, { label, detail: "" }, { format: " {label} {value} {detail}" })
          : bars.create(total, 0, { label, detail: "" });
      drawing = true;
      const show = (done: number | undefined, fields?: Record<string, string | number>): void => {
        const payload = { label, detail: fields ? formatFields(fields) : "" };
        if (done === undefined) bar.update(payload);
        else bar.update(total === undefined ? done : Math.min(done, bar.getTotal()), payload);
      };
      return {
        update: (done, fields) => show(done, fields),
        setTotal: (n) => bar.setTotal(n),
        finish: (fields) => show(undefined, fields ?? { detail: "done" }),
      };
    },
    close: () => {
      // Stopping a MultiBar that never drew still writes terminal control codes.
      if (drawing) bars.stop();
      drawing = false;
    },
  };
}

function jsonProgress(options: ProgressOptions): Progress {
  const logger = pino(
    {
      level: options.level ?? "info",
      base: { component: options.component },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.stream ?? pino.destination(2),
  );
  const interval = options.jsonIntervalMs ?? 1000;
  return {
    logger,
    interactive: false,
    step: (message, fields) => logger.info({ event: "step", ...fields }, message),
    bar(event, label, total) {
      let last = 0;
      let state: { done: number; total?: number } = total === undefined ? { done: 0 } : { done: 0, total };
      const log = (fields?: Record<string, string | number>): void =>
        logger.info({ event, ...state, ...fields }, label);
      return {
        update(done, fields) {
          state = { ...state, done };
          const now = Date.now();
          if (now - last < interval) return;
          last = now;
          log(fields);
        },
        setTotal: (n) => (state = { ...state, total: n }),
        finish: (fields) => log(fields),
      };
    },
    close: () => logger.flush(),
  };
}

export function createProgress(options: ProgressOptions): Progress {
  return (options.interactive ?? process.stderr.isTTY === true)
    ? terminalProgress(options)
    : jsonProgress(options);
}
