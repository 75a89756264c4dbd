/**
 * The program (infra/index.ts) under the Pulumi mocks of tests/infra/harness.ts, run in a child process per
 * stack config so several configs can be compared in one test file, and the stack configs the delivery tests
 * run: the repository's stack files, a review stack rendered from its template, and an existing VPC and
 * database with MSK Serverless, HTTPS and a tunnel host (every optional part of the program at least once).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderTemplate } from "../../delivery/stack-file";
import { readStackFile } from "../infra/harness";
import { REVIEW_ENV } from "./run-cli";

const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");

export interface MockResource {
  type: string;
  name: string;
  urn: string;
  parentType?: string;
  inputs: Record<string, unknown>;
  custom: boolean;
}

export interface MockStackRun {
  resources: MockResource[];
  outputs: Record<string, unknown>;
  /** The invokes the program called, e.g. `aws:ec2/getVpc:getVpc`, with their arguments. */
  invokes: { token: string; inputs: Record<string, unknown> }[];
}

/** One run of the program under mocks, in its own process. */
export function runMockStack(stack: string, config: Record<string, string>): Promise<MockStackRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [TSX, join(__dirname, "mock-stack-run.ts"), JSON.stringify({ stack, config })],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`the ${stack} program under mocks failed: ${stderr || error.message}`));
        else {
          // The result is the last line; log lines of the program may come before it.
          const last = stdout.trimEnd().split("\n").at(-1) ?? "";
          try {
            resolve(JSON.parse(last) as MockStackRun);
          } catch {
            reject(
              new Error(`the ${stack} program under mocks printed no result line: ${stdout.slice(0, 2000)}`),
            );
          }
        }
      },
    );
  });
}

/** A rendered stack file's config as the program receives it: strings, structured values as JSON. */
function asConfig(rendered: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rendered).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** Stack configs covering every optional part of the program. */
export const STACK_CONFIGS: Record<string, Record<string, string>> = {
  dev: readStackFile("dev"),
  prod: readStackFile("prod"),
  "pr-42": asConfig(
    renderTemplate(readFileSync(join(ROOT, "Pulumi.pr.yaml"), "utf8"), "Pulumi.pr.yaml", {
      ...REVIEW_ENV,
      STACK: "pr-42",
      PR_NUMBER: "42",
    }),
  ),
  shared: {
    "aws:region": "eu-west-1",
    "cdc-pipeline:existingVpcId": "vpc-0abc1234def567890",
    "cdc-pipeline:existingPrivateSubnetIds": '["subnet-0aaa1111bbb22222c", "subnet-0ddd3333eee44444f"]',
    "cdc-pipeline:existingPrivateRouteTableIds": '["rtb-0123456789abcdef0"]',
    "cdc-pipeline:existingVpcAwsApiCidrs": '["0.0.0.0/0"]',
    "cdc-pipeline:existingDatabase":
      '{"host": "orders.cluster-xyz.eu-west-1.rds.amazonaws.com", "port": 5432, "masterSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-Ab12Cd", "securityGroupId": "sg-0fedcba9876543210", "instanceIdentifier": "orders"}',
    "cdc-pipeline:databaseName": "orders",
    "cdc-pipeline:kafkaMode": "serverless",
    "cdc-pipeline:tunnelHost": "true",
    "cdc-pipeline:alarmEmails": '["oncall@example.com"]',
    "cdc-pipeline:connectCertificateArn":
      "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
  },
};
