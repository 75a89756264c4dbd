// The GitHub workflows: valid for GitHub's schema (action-validator, also run by `npm run lint`),
// and wired as the delivery process says: tests before any Pulumi step, one edited preview
// comment, review stacks named like the sweep expects, prod behind an approved environment.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { REVIEW_STACK_LABEL, reviewStackPullRequest } from "../../delivery/stack-names";

const ROOT = join(__dirname, "..", "..");
const WORKFLOWS = join(ROOT, ".github", "workflows");
const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  id?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  "continue-on-error"?: boolean;
}
interface Job {
  needs?: string | string[];
  if?: string;
  uses?: string;
  with?: Record<string, unknown>;
  environment?: { name: string };
  concurrency?: { group: string; "cancel-in-progress": boolean };
  strategy?: { matrix: Record<string, unknown> };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}

const text = (file: string): string => readFileSync(join(WORKFLOWS, file), "utf8");
const workflow = (file: string): Workflow => load(text(file)) as Workflow;
const pulumiSteps = (job: Job): Step[] =>
  (job.steps ?? []).filter((s) => s.uses === "pulumi/actions@v6" && s.with?.command);

describe("workflow files", () => {
  it("are the expected set", () => {
    expect(files.sort()).toEqual([
      "deploy.yml",
      "pull-request.yml",
      "review-stack-teardown.yml",
      "sweep-review-stacks.yml",
      "test.yml",
    ]);
  });

  it.each(files)("%s passes the workflow validator", (file) => {
    expect(validateWorkflow(text(file)).errors).toEqual([]);
  });

  it("the composite setup action passes the action validator", () => {
    expect(
      validateAction(readFileSync(join(ROOT, ".github", "actions", "setup-deploy", "action.yml"), "utf8"))
        .errors,
    ).toEqual([]);
  });

  it("the validator does reject a broken workflow", () => {
    const broken = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: true\n";
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });

  it.each(files)("%s uses no long-lived AWS keys and pins every action to a major version", (file) => {
    const source = text(file);
    expect(source).not.toMatch(
      /aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/,
    );
    const uses = [...source.matchAll(/uses: (\S+)/g)].map((m) => m[1]!);
    for (const ref of uses)
      expect(ref).toMatch(/^(\.\/\.github\/(workflows|actions)\/[\w./-]+|[\w-]+\/[\w-]+@v\d+)$/);
  });

  it("every stack a workflow touches is dev, prod or pr-<PR number>, the name the sweep recognises", () => {
    const teardownStack = text("review-stack-teardown.yml").match(/^ {2}STACK: (.+)$/m)![1]!;
    const names = files.flatMap((f) => [...text(f).matchAll(/stack-name: (.+)$/gm)].map((m) => m[1]!));
    // With PR 123 for every pull-request number expression:
    const resolved = names.map((n) =>
      n.replace("${{ env.STACK }}", teardownStack).replace(/\$\{\{ [^}]+ \}\}/, "123"),
    );
    expect(new Set(resolved)).toEqual(new Set(["dev", "prod", "pr-123"]));
    expect(reviewStackPullRequest("pr-123")).toBe(123);
    expect(teardownStack).toBe("pr-${{ inputs.pull-request }}");
  });

  it("the workflows use the label the sweep uses", () => {
    const labels = new Set(
      files.flatMap((f) => [...text(f).matchAll(/'([a-z-]+-stack)'/g)].map((m) => m[1]!)),
    );
    expect(labels).toEqual(new Set([REVIEW_STACK_LABEL]));
  });

  it(".pulumi-version is the @pulumi/pulumi version of the lockfile", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version: string }>;
    };
    expect(readFileSync(join(ROOT, ".pulumi-version"), "utf8").trim()).toBe(
      lock.packages["node_modules/@pulumi/pulumi"]!.version,
    );
  });
});

describe("pull requests", () => {
  const wf = workflow("pull-request.yml");

  it("runs on every PR change, with OIDC and PR comment rights only", () => {
    expect(wf.on).toEqual({
      pull_request: { types: ["opened", "synchronize", "reopened", "labeled", "unlabeled", "closed"] },
    });
    expect(wf.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
  });

  it("tests first, then previews dev with the policy pack in one comment edited in place", () => {
    expect(wf.jobs.test!.uses).toBe("./.github/workflows/test.yml");
    const preview = wf.jobs.preview!;
    expect(preview.needs).toBe("test");
    expect(pulumiSteps(preview).map((s) => s.with)).toEqual([
      {
        command: "preview",
        "stack-name": "dev",
        "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        diff: true,
        policyPacks: "infra/policy",
        "comment-on-pr": true,
        "edit-pr-comment": true,
        "always-include-summary": true,
        "suppress-progress": true,
      },
    ]);
  });

  it("brings a labelled PR's review stack up from the template, one operation at a time", () => {
    const up = wf.jobs["review-stack-up"]!;
    expect(up.needs).toBe("test");
    expect(up.if).toContain("contains(github.event.pull_request.labels.*.name, 'review-stack')");
    expect(up.environment).toEqual({ name: "review" });
    expect(up.concurrency).toEqual({
      group: "review-stack-pr-${{ github.event.pull_request.number }}",
      "cancel-in-progress": false,
    });
    const steps = up.steps!;
    const init = steps.findIndex(
      (s) => s.run === 'npm run stack:init -- "pr-${{ github.event.pull_request.number }}"',
    );
    const deploy = steps.findIndex((s) => s.with?.command === "up");
    expect(init).toBeGreaterThan(0);
    expect(deploy).toBeGreaterThan(init);
    expect(Object.keys(steps[init]!.env!).sort()).toEqual([
      "AWS_REGION",
      "DEPLOYER_CIDRS",
      "PULUMI_SECRETS_PROVIDER",
      "REVIEW_PRIVATE_SUBNET_IDS",
      "REVIEW_VPC_ID",
    ]);
    expect(steps[deploy]!.with).toMatchObject({
      "stack-name": "pr-${{ github.event.pull_request.number }}",
      policyPacks: "infra/policy",
    });
  });

  it("tears the review stack down when the PR closes or loses the label", () => {
    const teardown = wf.jobs["review-stack-teardown"]!;
    expect(teardown.uses).toBe("./.github/workflows/review-stack-teardown.yml");
    expect(teardown.with).toEqual({ "pull-request": "${{ github.event.pull_request.number }}" });
    expect(teardown.if).toContain("github.event.action == 'closed'");
    expect(teardown.if).toContain(
      "github.event.action == 'unlabeled' && github.event.label.name == 'review-stack'",
    );
    expect(teardown.needs).toBeUndefined();
  });
});

describe("teardown", () => {
  const job = workflow("review-stack-teardown.yml").jobs.teardown!;

  it("shares the deploy's concurrency group, so it waits for a running up instead of cutting it off", () => {
    expect(job.concurrency).toEqual({
      group: "review-stack-pr-${{ inputs.pull-request }}",
      "cancel-in-progress": false,
    });
  });

  it("destroys with refresh and removes the stack, retrying once after a failed destroy", () => {
    const destroys = pulumiSteps(job);
    expect(
      destroys.map((s) => [s.id, s.if, s["continue-on-error"], s.with?.remove, s.with?.refresh]),
    ).toEqual([
      ["destroy", "steps.stack.outputs.exists == 'true'", true, true, true],
      [undefined, "steps.destroy.outcome == 'failure'", undefined, true, true],
    ]);
    const names = job.steps!.map((s) => s.name ?? s.uses);
    expect(names.indexOf("Release a stale lock")).toBeLessThan(names.indexOf("Destroy"));
    expect(names.indexOf("Render ${{ env.STACK }}'s stack file")).toBeLessThan(names.indexOf("Destroy"));
  });
});

describe("deploy", () => {
  const wf = workflow("deploy.yml");

  it("runs on merges to main, serialised and never cancelled", () => {
    expect(wf.on).toEqual({ push: { branches: ["main"] }, workflow_dispatch: null });
    expect(wf.concurrency).toEqual({ group: "deploy", "cancel-in-progress": false });
  });

  it("tests, then up on dev, then up on prod behind the production environment", () => {
    expect(wf.jobs.dev!.needs).toBe("test");
    expect(wf.jobs.prod!.needs).toBe("dev");
    expect(wf.jobs.dev!.environment).toEqual({ name: "dev" });
    expect(wf.jobs.prod!.environment).toEqual({ name: "production" });
    expect(
      pulumiSteps(wf.jobs.dev!).map((s) => [s.with?.command, s.with?.["stack-name"], s.with?.policyPacks]),
    ).toEqual([["up", "dev", "infra/policy"]]);
    expect(
      pulumiSteps(wf.jobs.prod!).map((s) => [s.with?.command, s.with?.["stack-name"], s.with?.policyPacks]),
    ).toEqual([["up", "prod", "infra/policy"]]);
  });
});

describe("sweep", () => {
  const wf = workflow("sweep-review-stacks.yml");

  it("runs nightly and by hand", () => {
    expect(wf.on).toEqual({ schedule: [{ cron: "17 3 * * *" }], workflow_dispatch: null });
  });

  it("lists the stacks before it reads the pull requests, then tears down each chosen stack", () => {
    const steps = wf.jobs.select!.steps!;
    const list = steps.findIndex((s) => s.run === 'pulumi stack ls --json > "$RUNNER_TEMP/stacks.json"');
    const plan = steps.findIndex((s) => s.id === "plan");
    expect(list).toBeGreaterThan(0);
    expect(plan).toBe(list + 1);
    expect(steps[plan]!.run).toContain('npm run --silent stack:sweep -- --stacks "$RUNNER_TEMP/stacks.json"');
    const teardown = wf.jobs.teardown!;
    expect(teardown.if).toBe("needs.select.outputs.pull-requests != '[]'");
    expect(teardown.strategy!.matrix).toEqual({
      "pull-request": "${{ fromJSON(needs.select.outputs.pull-requests) }}",
    });
    expect(teardown.uses).toBe("./.github/workflows/review-stack-teardown.yml");
  });
});

describe("the setup action's AWS session", () => {
  interface Action {
    inputs: Record<string, { default?: string; required?: boolean }>;
    runs: { steps: Step[] };
  }
  const action = load(
    readFileSync(join(ROOT, ".github", "actions", "setup-deploy", "action.yml"), "utf8"),
  ) as Action;
  const check = action.runs.steps.find((s) => s.id === "check")!;
  const setups = files.flatMap((file) =>
    Object.entries(workflow(file).jobs).flatMap(([job, j]) =>
      (j.steps ?? [])
        .filter((s) => s.uses === "./.github/actions/setup-deploy")
        .map((s) => ({ where: `${file} ${job}`, with: s.with! })),
    ),
  );

  /** The check step's script as a runner runs it: bash, its env, a GITHUB_OUTPUT file. */
  function runCheck(env: Record<string, string>): { code: number; stdout: string; output: string } {
    const dir = mkdtempSync(join(tmpdir(), "setup-deploy-"));
    const output = join(dir, "output");
    writeFileSync(output, "");
    const result = spawnSync("bash", ["-e", "-c", check.run!], {
      env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, ...env },
      encoding: "utf8",
    });
    const written = readFileSync(output, "utf8");
    rmSync(dir, { recursive: true });
    return { code: result.status!, stdout: result.stdout, output: written };
  }
  const valid = {
    ROLE: "arn:aws:iam::123456789012:role/deploy",
    ROLE_VARIABLE: "AWS_ROLE_ARN",
    REGION: "eu-west-1",
  };

  it("asks STS for the session the step checked, 3600 s (a new role's maximum) unless the variable says more", () => {
    const sts = action.runs.steps.find((s) => s.uses === "aws-actions/configure-aws-credentials@v4")!;
    expect(sts.with!["role-duration-seconds"]).toBe("${{ steps.check.outputs.duration }}");
    expect(check.env).toEqual({
      ROLE: "${{ inputs.aws-role-arn }}",
      ROLE_VARIABLE: "${{ inputs.role-variable }}",
      REGION: "${{ inputs.aws-region }}",
      DURATION: "${{ inputs.role-duration-seconds }}",
    });
    expect(runCheck({ ...valid, DURATION: "" })).toEqual({ code: 0, stdout: "", output: "duration=3600\n" });
    expect(runCheck({ ...valid, DURATION: "7200" })).toEqual({
      code: 0,
      stdout: "",
      output: "duration=7200\n",
    });
  });

  it.each(["899", "43201", "2h", "-1"])(
    "refuses AWS_ROLE_DURATION_SECONDS=%s, naming the variable",
    (value) => {
      const result = runCheck({ ...valid, DURATION: value });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe(
        `::error::AWS_ROLE_DURATION_SECONDS must be a number of seconds from 900 to 43200, at most the role's maximum session duration (got '${value}')\n`,
      );
      expect(result.output).toBe("");
    },
  );

  it("names the variable the role comes from when it is not set", () => {
    expect(runCheck({ ROLE: "", ROLE_VARIABLE: "AWS_PREVIEW_ROLE_ARN", REGION: "", DURATION: "" })).toEqual({
      code: 1,
      stdout:
        "::error::set the repository (or environment) variables: AWS_PREVIEW_ROLE_ARN AWS_REGION (docs/delivery.md, 'Setting up')\n",
      output: "",
    });
    expect(action.inputs["role-variable"]!.default).toBe("AWS_ROLE_ARN");
  });

  it("every job passes the session variable; the preview uses its own role and says so", () => {
    expect(setups.map((s) => s.where).sort()).toEqual([
      "deploy.yml dev",
      "deploy.yml prod",
      "pull-request.yml preview",
      "pull-request.yml review-stack-up",
      "review-stack-teardown.yml teardown",
      "sweep-review-stacks.yml select",
    ]);
    for (const setup of setups) {
      const preview = setup.where === "pull-request.yml preview";
      expect(setup.with).toEqual({
        "aws-role-arn": preview ? "${{ vars.AWS_PREVIEW_ROLE_ARN }}" : "${{ vars.AWS_ROLE_ARN }}",
        ...(preview ? { "role-variable": "AWS_PREVIEW_ROLE_ARN" } : {}),
        "aws-region": "${{ vars.AWS_REGION }}",
        "role-duration-seconds": "${{ vars.AWS_ROLE_DURATION_SECONDS }}",
      });
    }
  });
});

describe("state backend and secrets", () => {
  it.each(files.filter((f) => f !== "test.yml"))(
    "%s logs in with the token or backend URL only: no passphrase (stacks on a bucket use a KMS key)",
    (file) => {
      const env = (load(text(file)) as { env: Record<string, string> }).env;
      expect(Object.keys(env).filter((k) => k.startsWith("PULUMI_"))).toEqual([
        "PULUMI_ACCESS_TOKEN",
        "PULUMI_BACKEND_URL",
      ]);
      expect(text(file)).not.toContain("PASSPHRASE");
    },
  );

  it("every stack:init step gets the secrets provider a new stack needs", () => {
    const inits = files.flatMap((file) =>
      Object.values(workflow(file).jobs).flatMap((job) =>
        (job.steps ?? []).filter((s) => s.run?.includes("npm run stack:init")),
      ),
    );
    expect(inits).toHaveLength(2);
    for (const step of inits) {
      expect(step.env!.PULUMI_SECRETS_PROVIDER).toBe("${{ vars.PULUMI_SECRETS_PROVIDER }}");
    }
  });
});
