/**
 * The one error type the SCD2 job throws for bad input or unusable state. Its message always names
 * what is at fault (a source file, a table, the lock, the manifest) so an operator can act on it.
 */
export class Scd2Error extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "Scd2Error";
  }
}

/**
 * The message of any thrown value, for wrapping errors from DuckDB or storage. DuckDB appends the
 * statement it failed in (`LINE 1: SELECT …` and a caret line): that is the job's SQL, not the user's
 * input, so it is cut off; the statement is logged at debug level (duck.ts) for whoever needs it.
 */
export function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n+LINE \d+:[\s\S]*$/, "").trim();
}
