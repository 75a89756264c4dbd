/**
 * What `npm run stack:init | preview | up | destroy | stack:sweep` do. Each command validates first
 * and changes nothing when its input is wrong.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { listOpenPullRequests, type GitHubOptions } from "./github";
import { CommandError, UsageError } from "./errors";
import { pulumiOutput, runPulumi } from "./pulumi-cli";
import { checkPassThroughArgs } from "./pulumi-target";
import { secretsProviderArgs } from "./secrets-provider";
import {
  isEphemeralStackFile,
  renderTemplate,
  stackFileConfig,
  stackFileSecrets,
  stackFileText,
  withSecretsSettings,
} from "./stack-file";
import {
  checkStackName,
  REVIEW_STACK_TEMPLATE,
  reviewStackPullRequest,
  shortStackName,
  stackFileName,
} from "./stack-names";
import { parseStackList, planSweep } from "./sweep";

export { CommandError } from "./errors";

const POLICY_PACK = "infra/policy";

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

export interface InitOptions {
  stack: string;
  /**
   * Defaults to Pulumi.pr.yaml for review stacks; without one, a stack whose file exists (dev, prod)
   * is created from that file as it is.
   */
  template?: string;
  /** Template variables; the environment fills the rest. */
  vars: Record<string, string>;
  /** Replace the config of an existing stack file that differs. */
  force: boolean;
  /** Passed to `pulumi stack select --create` when the stack is new (required on a bucket backend). */
  secretsProvider?: string;
}

/** The backend pulumi is logged in to (`PULUMI_BACKEND_URL`, the project's, or `pulumi login`'s). */
async function backendUrl(root: string): Promise<string> {
  const { code, stdout } = await pulumiOutput(["whoami", "--json"], root);
  if (code !== 0)
    throw new CommandError("`pulumi whoami` failed: log in to the state backend first (pulumi login)");
  return (JSON.parse(stdout) as { url: string }).url;
}

/**
 * Creates the stack if missing (with the secrets provider its backend needs) and writes its
 * `Pulumi.<stack>.yaml`: rendered from a template (review stacks), or the stack's own committed
 * file (dev, prod) kept as it is, plus the secrets settings pulumi wrote for a new stack.
 */
export async function initStack(root: string, options: InitOptions, env: NodeJS.ProcessEnv): Promise<number> {
  const stack = checkStackName(options.stack);
  const pullRequest = reviewStackPullRequest(stack);
  const template = options.template ?? (pullRequest !== undefined ? REVIEW_STACK_TEMPLATE : undefined);
  const file = stackFileName(stack);
  const path = join(root, file);
  const own = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  let config: Record<string, unknown> | undefined;
  if (template) {
    const templatePath = join(root, template);
    if (!existsSync(templatePath)) throw new UsageError(`--template ${template}: not found in ${root}`);
    const builtIns: Record<string, string> = { STACK: shortStackName(stack) };
    if (pullRequest !== undefined) builtIns.PR_NUMBER = String(pullRequest);
    config = renderTemplate(readFileSync(templatePath, "utf8"), template, {
      ...env,
      ...options.vars,
      ...builtIns,
    });
    if (own !== undefined && !options.force) {
      const current = stackFileConfig(own, file);
      if (current !== undefined && !isDeepStrictEqual(current, config)) {
        throw new CommandError(
          `${file} exists with other settings than ${template} gives: --force replaces its config (its secrets settings are kept)`,
        );
      }
    }
  } else {
    if (own === undefined) {
      throw new UsageError(
        `${file} not found: --template <file> is required for ${stack} (review stacks pr-<n> default to ${REVIEW_STACK_TEMPLATE}, other stacks use their own ${file})`,
      );
    }
    if (Object.keys(options.vars).length > 0 || options.force) {
      throw new UsageError(`--var and --force apply to a template; ${stack} is created from its own ${file}`);
    }
    if (stackFileConfig(own, file) === undefined) throw new CommandError(`${file} has no config`);
  }
  const secretsArgs = secretsProviderArgs(
    stack,
    await backendUrl(root),
    options.secretsProvider,
    own === undefined ? {} : stackFileSecrets(own, file),
  );
  const code = await runPulumi(["stack", "select", "--create", stack, ...secretsArgs], root);
  if (code !== 0) return code;
  // After the select: a new stack's file may now hold its encryption salt or key, which must stay.
  const written = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  if (config) {
    writeAtomically(path, stackFileText(config, template!, written));
  } else {
    writeAtomically(
      path,
      withSecretsSettings(own!, written === undefined ? {} : stackFileSecrets(written, file)),
    );
  }
  return 0;
}

export async function previewStack(root: string, stack: string, extra: string[]): Promise<number> {
  checkPassThroughArgs(extra);
  return runPulumi(
    ["preview", "--stack", checkStackName(stack), "--diff", "--policy-pack", POLICY_PACK, ...extra],
    root,
  );
}

export async function upStack(root: string, stack: string, extra: string[]): Promise<number> {
  checkPassThroughArgs(extra);
  return runPulumi(["up", "--stack", checkStackName(stack), "--policy-pack", POLICY_PACK, ...extra], root);
}

/**
 * Destroys an ephemeral stack, then (`remove`) deletes the stack itself. A long-lived stack is
 * refused: it is made ephemeral by an `up` first, on purpose (docs/delivery.md, "Tearing down").
 */
export async function destroyStack(
  root: string,
  stack: string,
  remove: boolean,
  extra: string[],
): Promise<number> {
  checkStackName(stack);
  checkPassThroughArgs(extra);
  const file = stackFileName(stack);
  const path = join(root, file);
  if (!existsSync(path)) {
    const hint =
      reviewStackPullRequest(stack) !== undefined ? ` (run \`npm run stack:init -- ${stack}\` first)` : "";
    throw new CommandError(
      `${file} not found: destroy reads the stack's config to check it is ephemeral${hint}`,
    );
  }
  if (!isEphemeralStackFile(readFileSync(path, "utf8"), file)) {
    throw new CommandError(
      `${stack} is long-lived (${file} does not set cdc-pipeline:ephemeral: "true"), so destroy is refused: ` +
        `set it, run \`npm run up -- ${stack}\` (this drops protection and the final snapshot), then destroy`,
    );
  }
  const code = await runPulumi(["destroy", "--stack", stack, ...extra], root);
  if (code !== 0 || !remove) return code;
  // Without --force, `stack rm` refuses a stack that still has resources: nothing is orphaned.
  return runPulumi(["stack", "rm", stack, "--yes"], root);
}

export interface SweepOptions {
  /** A file holding `pulumi stack ls --json`, listed before the pull requests are read. */
  stacksFile: string;
  github: GitHubOptions;
  label: string;
}

/** The review stacks to destroy (their pull request numbers), with every decision logged. */
export async function sweepReviewStacks(options: SweepOptions, logger: Logger): Promise<number[]> {
  if (!existsSync(options.stacksFile)) throw new CommandError(`--stacks: ${options.stacksFile} not found`);
  const stacks = parseStackList(readFileSync(options.stacksFile, "utf8"), options.stacksFile);
  const open = await listOpenPullRequests(options.github);
  const decisions = planSweep(stacks, open, options.label);
  const destroy = decisions.filter((d) => d.action === "destroy").map((d) => d.pullRequest);
  for (const decision of decisions)
    logger.info(
      { event: "sweep-decision", ...decision },
      `${decision.stack}: ${decision.action} (${decision.reason})`,
    );
  logger.info(
    {
      event: "sweep-summary",
      stacks: stacks.length,
      openPullRequests: open.length,
      destroy: destroy.length,
    },
    "sweep planned",
  );
  return destroy;
}
