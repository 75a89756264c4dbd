// Child process of mock-stacks.ts: runs infra/index.ts once under the Pulumi mocks of tests/infra/harness.ts
// (one run per process: Pulumi's runtime state is global) and prints what it registered, the invokes it made
// and its outputs as one JSON document, the last line on stdout. Argument: {"stack": ..., "config": {...}} as JSON.
import * as pulumi from "@pulumi/pulumi";
import { runStack } from "../infra/harness";

type Mocks = Parameters<typeof pulumi.runtime.setMocks>[0];

async function main(): Promise<void> {
  const { stack, config } = JSON.parse(process.argv[2]!) as { stack: string; config: Record<string, string> };
  // The harness answers invokes from its table; record which ones the program makes (they need IAM rights too).
  const invokes = new Map<string, Record<string, unknown>>();
  const setMocks = pulumi.runtime.setMocks;
  pulumi.runtime.setMocks = (mocks: Mocks, ...rest) =>
    setMocks(
      {
        newResource: (args) => mocks.newResource(args),
        call: (args) => {
          invokes.set(`${args.token} ${JSON.stringify(args.inputs)}`, {
            token: args.token,
            inputs: args.inputs,
          });
          return mocks.call(args);
        },
      },
      ...rest,
    );
  const run = await runStack(stack, config);
  const resources = run.resources.map(({ type, name, urn, parentType, inputs, custom }) => ({
    type,
    name,
    urn,
    parentType,
    inputs,
    custom,
  }));
  // On a line of its own, last: the program's log lines (pulumi.log under mocks) go to stdout before it.
  process.stdout.write(
    `\n${JSON.stringify({ resources, outputs: run.outputs, invokes: [...invokes.values()] })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
