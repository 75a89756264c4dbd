/** The two kinds of failure cdc-stack reports (delivery/cli.ts maps them to exit codes). */

/** A failure the user can fix: the message says what and where; exits 1. */
export class CommandError extends Error {
  override name = "CommandError";
}

/** A bad argument or option, found before anything runs; exits 2 (as commander's own usage errors). */
export class UsageError extends Error {
  override name = "UsageError";
}
