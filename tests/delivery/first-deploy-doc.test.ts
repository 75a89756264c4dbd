// The first-deploy runbook (docs/first-deploy.md) and the README's "A new environment from zero" against the
// code: every command in their sh blocks, its flags (by the real CLIs' own --help), every config key, stack
// output, workflow variable and secret, GitHub environment, repository path and connector name they name must
// exist, and the runbook must set every variable the workflows read. The docs cannot drift from the code.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIPELINE_DEFAULTS } from "../../connectors/config";
import { createProgress } from "../../engines/progress";
import { startPulumiEngine, type PulumiEngine } from "../../engines/pulumi-engine";
import { configKeys } from "../../infra/config-schema";

const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** The README section between its heading and the next heading of the same or a higher level. */
function readmeSection(heading: string): string {
  const text = read("README.md");
  const start = text.indexOf(`### ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "### ${heading}"`);
  const rest = text.slice(start + heading.length + 5);
  const end = rest.search(/^#{2,3} /m); // sh comments in code blocks start with a single #
  return end < 0 ? rest : rest.slice(0, end);
}

/** The commands of a markdown text's sh blocks: comments dropped, `\`-continued lines joined. */
function shCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"))
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter((line) => line !== "");
}

const SOURCES: Record<string, string> = {
  "docs/first-deploy.md": read("docs/first-deploy.md"),
  'README.md "A new environment from zero"': readmeSection("A new environment from zero"),
};

/** `pulumi …` invocations in a command, also inside `$( … )`: the words up to a pipe, `)` or `;`. */
function pulumiInvocations(command: string): string[][] {
  return [...command.matchAll(/(?:^|\$\(|\s)pulumi ([^|);]*)/g)].map((m) => m[1]!.trim().split(/\s+/));
}

const workflowText = readdirSync(join(ROOT, ".github", "workflows"))
  .map((f) => read(join(".github", "workflows", f)))
  .join("\n");
const stackOutputs = [...read("infra/index.ts").matchAll(/^export const (\w+)/gm)].map((m) => m[1]!);

describe.each(Object.entries(SOURCES))("%s", (source, text) => {
  const commands = shCommands(text);
  let engine: PulumiEngine;
  let dir: string;
  const helpCache = new Map<string, Promise<string>>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "first-deploy-doc-"));
    engine = await startPulumiEngine(dir, createProgress("first-deploy-doc"));
  }, 30 * 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `--help` of a real CLI command: the real pulumi, or cdc-stack as npm runs it. */
  function help(cli: "pulumi" | "cdc-stack", words: string[]): Promise<string> {
    const key = `${cli} ${words.join(" ")}`;
    if (!helpCache.has(key)) {
      const [file, args] =
        cli === "pulumi"
          ? [join(engine.binDir, "pulumi"), [...words, "--help"]]
          : [process.execPath, [TSX, join(ROOT, "delivery", "cli.ts"), ...words, "--help"]];
      helpCache.set(
        key,
        new Promise((resolve) =>
          execFile(file, args, { env: { ...process.env, ...engine.env } }, (_error, stdout) =>
            resolve(stdout),
          ),
        ),
      );
    }
    return helpCache.get(key)!;
  }

  /** The subcommand path of a pulumi invocation (`config set`, `stack output`), by pulumi's own usage line. */
  async function pulumiCommand(words: string[]): Promise<string[]> {
    const names = words.slice(0, 3).filter((w) => /^[a-z][a-z-]*$/.test(w));
    for (let n = names.length; n > 0; n--) {
      const usage = /Usage:\s*\n\s*pulumi ([a-z -]+?)(?: \[|\n|$)/.exec(
        await help("pulumi", names.slice(0, n)),
      );
      if (usage && usage[1]!.trim() === names.slice(0, n).join(" ")) return names.slice(0, n);
    }
    throw new Error(`pulumi ${words.join(" ")}: no such pulumi command`);
  }

  const flagsOf = (words: string[]) => words.filter((w) => /^--[a-z]/.test(w)).map((w) => w.split("=")[0]!);

  it("has commands to check", () => {
    expect(commands.length).toBeGreaterThan(source.startsWith("docs") ? 30 : 3);
  });

  it("runs only pulumi commands and flags the real pulumi CLI has", async () => {
    const problems: string[] = [];
    for (const command of commands) {
      for (const words of pulumiInvocations(command)) {
        const path = await pulumiCommand(words);
        const usage = await help("pulumi", path);
        for (const flag of flagsOf(words)) {
          if (!new RegExp(`${flag}\\b`).test(usage)) problems.push(`pulumi ${path.join(" ")}: no ${flag}`);
        }
      }
    }
    expect(problems).toEqual([]);
  }, 300_000);

  it("runs only npm scripts that exist, with flags their command has", async () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    const problems: string[] = [];
    for (const command of commands.filter((c) => c.startsWith("npm "))) {
      const words = command.split(/\s+/);
      if (words[1] !== "run") {
        expect(["ci", "test", "start"]).toContain(words[1]);
        continue;
      }
      const script = scripts[words[2]!];
      if (!script) {
        problems.push(`${command}: no npm script ${words[2]}`);
        continue;
      }
      const cdcStack = /^tsx delivery\/cli\.ts (\w+)$/.exec(script);
      if (!cdcStack) continue;
      const args = words.slice(words.indexOf("--") + 1);
      // preview and up pass their flags on to pulumi; the other commands take their own.
      const passThrough = ["preview", "up"].includes(cdcStack[1]!);
      const usage = passThrough
        ? await help("pulumi", [cdcStack[1]!])
        : await help("cdc-stack", [cdcStack[1]!]);
      expect(await help("cdc-stack", [cdcStack[1]!])).toContain(`Usage: cdc-stack ${cdcStack[1]!}`);
      for (const flag of flagsOf(args)) {
        if (!new RegExp(`${flag}\\b`).test(usage)) problems.push(`${command}: no ${flag}`);
      }
    }
    expect(problems).toEqual([]);
  }, 300_000);

  it("names only config keys the stack reads", () => {
    // A repository slug (owner/cdc-pipeline:…) is not a config key.
    const keys = [...text.matchAll(/(?<![/\w-])cdc-pipeline:([A-Za-z]+)/g)].map((m) => m[1]!);
    expect(keys.filter((k) => !configKeys.includes(k))).toEqual([]);
  });

  it("reads only stack outputs the program exports", () => {
    const named = commands.flatMap((c) => [...c.matchAll(/pulumi stack output (\w+)/g)].map((m) => m[1]!));
    expect(named.filter((o) => !stackOutputs.includes(o))).toEqual([]);
  });

  it("names only repository files that exist and connectors the stack creates", () => {
    const paths = [
      ...text.matchAll(/(?<![\w/$])((?:delivery|docs|infra|connectors|analytics|\.github)\/[\w./-]+)/g),
    ]
      .map((m) => m[1]!.replace(/[.]$/, ""))
      .filter((p) => !p.includes("*"));
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
    const connectors = [...text.matchAll(/\/connectors\/([a-z0-9-]+)\//g)].map((m) => m[1]!);
    const known: string[] = [PIPELINE_DEFAULTS.sourceConnectorName, PIPELINE_DEFAULTS.sinkConnectorName];
    expect(connectors.filter((c) => !known.includes(c))).toEqual([]);
  });
});

describe("the runbook's GitHub setup against the workflows", () => {
  const commands = shCommands(SOURCES["docs/first-deploy.md"]!);
  const set = (kind: "variable" | "secret") =>
    new Set(
      commands.flatMap((c) => [...c.matchAll(new RegExp(`gh ${kind} set (\\w+)`, "g"))].map((m) => m[1]!)),
    );
  const used = (kind: "vars" | "secrets") =>
    new Set([...workflowText.matchAll(new RegExp(`${kind}\\.(\\w+)`, "g"))].map((m) => m[1]!));

  it("sets exactly the variables and secrets the workflows read", () => {
    expect([...set("variable")].sort()).toEqual([...used("vars")].sort());
    expect([...set("secret")].sort()).toEqual([...used("secrets")].sort());
  });

  it("creates exactly the environments the workflows run in", () => {
    const created = commands.flatMap((c) => [...c.matchAll(/environments\/(\w+)"/g)].map((m) => m[1]!));
    const environments = [...workflowText.matchAll(/environment:\n\s+name: (\w+)/g)].map((m) => m[1]!);
    expect(created.sort()).toEqual([...new Set(environments)].sort());
  });

  it("sets AWS_ROLE_ARN on every environment, where the jobs read it", () => {
    const perEnvironment = commands
      .filter((c) => c.startsWith("gh variable set AWS_ROLE_ARN"))
      .map((c) => /--env (\w+)/.exec(c)?.[1]);
    expect(perEnvironment.sort()).toEqual(["dev", "production", "review"]);
  });
});
