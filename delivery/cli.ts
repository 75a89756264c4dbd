/**
 * `cdc-stack`: the stack commands users and the workflows run (package.json: stack:init, preview,
 * up, destroy, stack:sweep). Exit codes: 0 done, 1 failed (the message says why), 2 bad options,
 * otherwise pulumi's own exit code.
 */
import { Command, CommanderError, Option } from "commander";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { createProgress } from "../common/progress";
import { destroyStack, initStack, previewStack, sweepReviewStacks, upStack } from "./commands";
import { UsageError } from "./errors";
import { REVIEW_STACK_LABEL } from "./stack-names";

/** JSON lines on stderr when it is not a terminal (CI logs), plain lines on a terminal. */
function createLogger(): Logger {
  return createProgress({ component: "cdc-stack", terminalLevel: "info" }).logger;
}

function parseVar(value: string, previous: Record<string, string>): Record<string, string> {
  const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(value);
  if (!match)
    throw new CommanderError(
      2,
      "cdc-stack.var",
      `--var ${value}: expected NAME=value with NAME in upper case`,
    );
  return { ...previous, [match[1]!]: match[2]! };
}

function program(setExit: (code: number) => void): Command {
  const root = new Command("cdc-stack")
    .description("Create, preview, deploy, destroy and sweep the pipeline's Pulumi stacks")
    .option("-C, --cwd <dir>", "the Pulumi project directory", resolve(__dirname, ".."))
    .exitOverride();
  const projectDir = (): string => resolve(root.opts<{ cwd: string }>().cwd);
  root
    .command("init")
    .description(
      "create the stack if missing, with the secrets provider its backend needs, and select it; write Pulumi.<stack>.yaml from a template (pr-<n>) or keep the stack's own file (dev, prod)",
    )
    .argument("<stack>", "stack name, e.g. pr-42")
    .option(
      "--template <file>",
      "template stack file (default for pr-<n>: Pulumi.pr.yaml; none: the stack's own Pulumi.<stack>.yaml)",
    )
    .option(
      "--var <NAME=value>",
      "template variable (repeatable; the environment fills the rest)",
      parseVar,
      {},
    )
    .option("--force", "replace the config of an existing stack file that differs", false)
    .addOption(
      new Option(
        "--secrets-provider <url>",
        "secrets provider of a new stack: awskms://… on an S3 backend (required there), passphrase on file://",
      ).env("PULUMI_SECRETS_PROVIDER"),
    )
    .action(
      async (
        stack: string,
        o: { template?: string; var: Record<string, string>; force: boolean; secretsProvider?: string },
      ) => {
        setExit(
          await initStack(
            projectDir(),
            { stack, template: o.template, vars: o.var, force: o.force, secretsProvider: o.secretsProvider },
            process.env,
          ),
        );
      },
    );
  for (const [name, description, run] of [
    ["preview", "pulumi preview --diff with the policy pack", previewStack],
    ["up", "pulumi up with the policy pack", upStack],
  ] as const) {
    root
      .command(name)
      .description(`${description}; further arguments go to pulumi`)
      .argument("<stack>", "stack name")
      .argument("[pulumiArgs...]", "passed to pulumi, e.g. --yes or --target <urn>")
      .allowUnknownOption()
      .action(async (stack: string, extra: string[]) => setExit(await run(projectDir(), stack, extra)));
  }
  root
    .command("destroy")
    .description(
      "pulumi destroy of an ephemeral stack (long-lived stacks are refused); further arguments go to pulumi",
    )
    .argument("<stack>", "stack name")
    .argument("[pulumiArgs...]", "passed to pulumi destroy, e.g. --yes")
    .option("--remove", "also remove the stack (pulumi stack rm) once nothing is left", false)
    .allowUnknownOption()
    .action(async (stack: string, extra: string[], o: { remove: boolean }) =>
      setExit(await destroyStack(projectDir(), stack, o.remove, extra)),
    );
  root
    .command("sweep")
    .description("print (JSON) the pull requests whose review stack should be destroyed")
    .requiredOption("--stacks <file>", "output of `pulumi stack ls --json`, taken before this runs")
    .addOption(
      new Option("--repository <owner/name>", "GitHub repository")
        .env("GITHUB_REPOSITORY")
        .makeOptionMandatory(),
    )
    .option("--label <name>", "the label that asks for a review stack", REVIEW_STACK_LABEL)
    .action(async (o: { stacks: string; repository: string; label: string }) => {
      const token = process.env.GITHUB_TOKEN ?? process.env.GH_TOKEN;
      if (!token)
        throw new CommanderError(2, "cdc-stack.token", "sweep: GITHUB_TOKEN (or GH_TOKEN) must be set");
      const logger = createLogger();
      const prs = await sweepReviewStacks(
        {
          stacksFile: resolve(o.stacks),
          label: o.label,
          github: {
            repository: o.repository,
            token,
            ...(process.env.GITHUB_API_URL ? { apiUrl: process.env.GITHUB_API_URL } : {}),
          },
        },
        logger,
      );
      logger.flush();
      process.stdout.write(`${JSON.stringify(prs)}\n`);
      setExit(0);
    });
  return root;
}

async function main(): Promise<void> {
  let exitCode = 0;
  try {
    await program((code) => (exitCode = code)).parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; any usage error is a bad option.
      if (error.exitCode !== 0) {
        if (error.code.startsWith("cdc-stack.")) process.stderr.write(`error: ${error.message}\n`);
        exitCode = 2;
      }
    } else if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      exitCode = 2;
    } else {
      // CommandError, StackFileError, PulumiNotFoundError: the message says what to fix.
      process.stderr.write(`cdc-stack: ${error instanceof Error ? error.message : String(error)}\n`);
      exitCode = 1;
    }
  }
  process.exitCode = exitCode;
}

void main();
