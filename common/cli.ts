/**
 * Command-line parsing the tools share: commander's usage errors (unknown option, missing value, too
 * many arguments) and option values the schema refuses both exit 2, with one line per problem naming
 * the option; --help and --version exit 0.
 */
import { CommanderError, type Command } from "commander";
import type { z } from "zod";

/** Parses `argv` with `program`, then its options with `schema` (when given); exits 2 on bad input. */
export function parseCommandLine<S extends z.ZodType>(
  program: Command,
  argv: string[],
  name: string,
  schema: S,
): z.output<S> {
  program.exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    // Commander has printed its message.
    process.exit(error instanceof CommanderError && error.exitCode === 0 ? 0 : 2);
  }
  const parsed = schema.safeParse(program.opts());
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `--${optionName(String(i.path[0] ?? ""))}: ${i.message}`);
    process.stderr.write(`${name}: invalid options\n  ${issues.join("\n  ")}\n`);
    process.exit(2);
  }
  return parsed.data;
}

/** `keepRunning` → `keep-running`: the option as the user typed it. */
function optionName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
