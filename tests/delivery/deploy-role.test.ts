// The deploy role's policy (delivery/deploy-role/*.json) against what the program registers: every resource
// type and invoke of every stack config under mocks needs its entry in deploy-role-actions.ts, and every action
// there must be allowed, on the resource's own ARN where its name is known. A new resource type fails here
// until the policy grants it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { INVOKE_NEEDS, NO_AWS_RIGHTS, RESOURCE_NEEDS, type Needs } from "./deploy-role-actions";
import { runMockStack, STACK_CONFIGS, type MockResource, type MockStackRun } from "./mock-stacks";

const DIR = join(__dirname, "..", "..", "delivery", "deploy-role");
interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
const documents = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((file) => ({ file, text: readFileSync(join(DIR, file), "utf8") }));
const statements = documents.flatMap((d) => (JSON.parse(d.text) as { Statement: Statement[] }).Statement);

/** IAM's wildcard match: `*` any run of characters, `?` one; actions are case-insensitive. */
function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "").test(value);
}
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/**
 * Whether an Allow statement grants `action` on `resource` (conditions only narrow further: checked below).
 * `extra`: what the setup adds for one stack (an existing database's master secret, first-deploy.md step 3).
 */
function allowed(action: string, resource: string, extra: Statement[] = []): boolean {
  return [...statements, ...extra].some(
    (s) =>
      s.Effect === "Allow" &&
      s.Action.some((a) => globMatch(a, action, true)) &&
      (resource === "*" ? resources(s).length > 0 : resources(s).some((r) => globMatch(r, resource))),
  );
}

/** The documented addition for a stack on an existing database: reading its master secret. */
function extraFor(stack: string): Statement[] {
  const existing = STACK_CONFIGS[stack]!["cdc-pipeline:existingDatabase"];
  if (!existing) return [];
  const { masterSecretArn } = JSON.parse(existing) as { masterSecretArn: string };
  return [
    {
      Sid: "ExistingDatabaseSecret",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: masterSecretArn,
    },
  ];
}

function missing(needs: Needs, r: MockResource, stack: string, all: MockResource[]): string[] {
  const checks = [
    { actions: needs.actions, arns: needs.arns ? needs.arns(r, stack, all) : ["*"] },
    ...(needs.also ? needs.also(r, stack) : []),
  ];
  return checks.flatMap(({ actions, arns }) =>
    actions.flatMap((action) =>
      arns
        .filter((a) => !allowed(action, a, extraFor(stack)))
        .map((a) => `${r.type} ${r.name} (${stack}): ${action} on ${a}`),
    ),
  );
}

describe("the deploy role's policy", () => {
  const runs: [string, MockStackRun][] = [];
  beforeAll(async () => {
    const entries = Object.entries(STACK_CONFIGS);
    // Two at a time: the machine has two cores.
    for (let i = 0; i < entries.length; i += 2) {
      const batch = entries.slice(i, i + 2);
      const done = await Promise.all(batch.map(([stack, config]) => runMockStack(stack, config)));
      batch.forEach(([stack], j) => runs.push([stack, done[j]!]));
    }
  }, 300_000);

  it("knows every resource type and invoke the program uses in any stack config", () => {
    const types = new Set(runs.flatMap(([, run]) => run.resources.map((r) => r.type)));
    const unknown = [...types].filter((t) => !NO_AWS_RIGHTS.test(t) && !(t in RESOURCE_NEEDS));
    expect(unknown).toEqual([]);
    const invokes = new Set(runs.flatMap(([, run]) => run.invokes.map((i) => i.token)));
    expect([...invokes].filter((t) => !(t in INVOKE_NEEDS))).toEqual([]);
  });

  it("allows every action each resource and invoke needs, on its own ARN where the name is known", () => {
    const gaps = runs.flatMap(([stack, run]) => [
      ...run.resources
        .filter((r) => r.type in RESOURCE_NEEDS)
        .flatMap((r) => missing(RESOURCE_NEEDS[r.type]!, r, stack, run.resources)),
      ...run.invokes.flatMap(({ token, inputs }) =>
        missing(
          INVOKE_NEEDS[token]!,
          { type: token, name: "invoke", urn: "", inputs, custom: false },
          stack,
          [],
        ),
      ),
    ]);
    expect([...new Set(gaps)]).toEqual([]);
  });

  it.each([
    ["rds:DeleteDBInstance", "arn:aws:rds:eu-west-1:123456789012:db:orders"],
    [
      "secretsmanager:GetSecretValue",
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-Ab12Cd",
    ],
    ["iam:PassRole", "arn:aws:iam::123456789012:role/admin"],
    ["iam:CreateRole", "arn:aws:iam::123456789012:role/deploy"],
    ["s3:DeleteBucket", "arn:aws:s3:::payroll-exports"],
    ["kafka:DeleteCluster", "arn:aws:kafka:eu-west-1:123456789012:cluster/orders-events/0a1b"],
    ["kafka-cluster:DeleteTopic", "arn:aws:kafka:eu-west-1:123456789012:topic/orders-events/0a1b/orders"],
    ["logs:DeleteLogGroup", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/billing"],
    ["ecr:PutImage", "arn:aws:ecr:eu-west-1:123456789012:repository/billing"],
    ["iam:CreateUser", "*"],
  ])("refuses %s on %s (what is not the stack's)", (action, resource) => {
    expect(allowed(action, resource)).toBe(false);
  });

  it("has no wildcard service actions, and Resource * only where AWS offers no narrower resource", () => {
    const actions = statements.flatMap((s) => s.Action);
    expect(actions.filter((a) => a === "*" || a.endsWith(":*"))).toEqual([]);
    expect(
      statements
        .filter((s) => resources(s).includes("*"))
        .map((s) => s.Sid)
        .sort(),
    ).toEqual([
      "Autoscaling",
      "MskBrokerLogDelivery",
      "Network",
      "ReadEverywhere",
      "ServiceLinkedRoles",
      "StorageKeyCreate",
      "TaskDefinitions",
    ]);
    // With Resource *, creating a key needs the stack's tag, and service-linked roles only for these services.
    const condition = (sid: string) => statements.find((s) => s.Sid === sid)!.Condition;
    expect(condition("StorageKeyCreate")).toEqual({
      StringEquals: { "aws:RequestTag/cdc:project": "cdc-pipeline" },
    });
    expect(condition("ServiceLinkedRoles")).toEqual({
      StringEquals: {
        "iam:AWSServiceName": [
          "ecs.amazonaws.com",
          "elasticloadbalancing.amazonaws.com",
          "rds.amazonaws.com",
          "kafka.amazonaws.com",
          "ecs.application-autoscaling.amazonaws.com",
          "delivery.logs.amazonaws.com",
        ],
      },
    });
  });

  it("fits IAM's limits: each document a managed policy (6,144 characters without whitespace), Sids unique", () => {
    for (const { file, text } of documents) {
      expect([file, text.replace(/\s/g, "").length <= 6144]).toEqual([file, true]);
      expect((JSON.parse(text) as { Version: string }).Version).toBe("2012-10-17");
    }
    const sids = statements.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    expect(documents.map((d) => d.file)).toEqual([
      "catalog-and-health.json",
      "compute-and-alarms.json",
      "data-and-network.json",
    ]);
  });
});
