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

/** The message of any thrown value, for wrapping errors from DuckDB or storage. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
