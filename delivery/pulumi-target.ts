/**
 * Keeps pulumi on the stack a command names. `preview`, `up` and `destroy` pass further arguments
 * on to pulumi, and `destroy` checks first that its stack is ephemeral: an argument or environment
 * variable that makes pulumi act on another stack, project or config file would bypass that check
 * (pulumi takes the last `--stack`). Such input is refused before anything runs.
 */
import { UsageError } from "./errors";

/** Flags of `pulumi preview | up | destroy` (v3.248) that change what the command acts on. */
const TARGET_FLAGS: ReadonlyMap<string, string> = new Map([
  ["--stack", "selects the stack, which this command takes as its argument"],
  ["--cwd", "runs pulumi in another project directory (cdc-stack's own --cwd goes before the command)"],
  ["--config-file", "reads another config file than the stack's Pulumi.<stack>.yaml"],
]);
const TARGET_SHORTHANDS: ReadonlyMap<string, string> = new Map([
  ["s", "--stack"],
  ["C", "--cwd"],
]);
/** Shorthands that take a value: in `-tURN` or `-m=text` the rest of the argument is the value. */
const SHORTHANDS_WITH_VALUE = new Set(["C", "c", "m", "p", "s", "t", "v", "x"]);

/** Input that would point pulumi elsewhere than the named stack: a bad option, exits 2. */
export class RefusedPulumiInputError extends UsageError {
  override name = "RefusedPulumiInputError";
}

/** The target-changing flag `arg` sets, by its long name, if any (pflag's parsing of `-abc`). */
function targetFlag(arg: string): string | undefined {
  if (arg.startsWith("--")) {
    const name = arg.split("=", 1)[0]!;
    return TARGET_FLAGS.has(name) ? name : undefined;
  }
  if (!arg.startsWith("-")) return undefined;
  for (let i = 1; i < arg.length; i++) {
    const letter = arg[i]!;
    const flag = TARGET_SHORTHANDS.get(letter);
    if (flag) return flag;
    if (SHORTHANDS_WITH_VALUE.has(letter) || arg[i + 1] === "=") return undefined;
  }
  return undefined;
}

/** Throws when an argument meant for pulumi would change its stack, project or config file. */
export function checkPassThroughArgs(args: readonly string[]): void {
  for (const arg of args) {
    const flag = targetFlag(arg);
    if (flag) {
      throw new RefusedPulumiInputError(
        `${arg}: refused, pulumi's ${flag} ${TARGET_FLAGS.get(flag)!}; nothing was run`,
      );
    }
  }
}

/** pulumi reads any flag from `PULUMI_OPTION_<FLAG>` when the flag is not given. */
function optionVariable(flag: string): string {
  return `PULUMI_OPTION_${flag.slice(2).replace(/-/g, "_").toUpperCase()}`;
}

/** Throws when the environment sets a target-changing flag for pulumi. */
export function checkPulumiEnvironment(env: NodeJS.ProcessEnv): void {
  for (const [flag, effect] of TARGET_FLAGS) {
    const variable = optionVariable(flag);
    if (env[variable] !== undefined) {
      throw new RefusedPulumiInputError(
        `${variable} is set: pulumi reads it as ${flag}, which ${effect}; unset it (nothing was run)`,
      );
    }
  }
}
