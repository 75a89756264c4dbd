import { describe, expect, it } from "vitest";
import {
  checkPassThroughArgs,
  checkPulumiEnvironment,
  RefusedPulumiInputError,
} from "../../delivery/pulumi-target";

const STACK = "selects the stack, which this command takes as its argument";
const CWD = "runs pulumi in another project directory (cdc-stack's own --cwd goes before the command)";
const CONFIG_FILE = "reads another config file than the stack's Pulumi.<stack>.yaml";

describe("checkPassThroughArgs", () => {
  it.each([
    [["--yes", "--stack", "prod"], "--stack", "--stack", STACK],
    [["--stack=prod"], "--stack=prod", "--stack", STACK],
    [["-s", "prod"], "-s", "--stack", STACK],
    [["-sprod"], "-sprod", "--stack", STACK],
    [["-s=prod"], "-s=prod", "--stack", STACK],
    // pflag reads grouped shorthands: -y and -f are switches, then -s takes the rest.
    [["-yfsprod"], "-yfsprod", "--stack", STACK],
    // --refresh's value is optional: in -rs the s is the next flag.
    [["-rs", "prod"], "-rs", "--stack", STACK],
    [["--cwd", "/elsewhere"], "--cwd", "--cwd", CWD],
    [["-C/elsewhere"], "-C/elsewhere", "--cwd", CWD],
    [["--config-file=Pulumi.prod.yaml"], "--config-file=Pulumi.prod.yaml", "--config-file", CONFIG_FILE],
    // After a value-taking flag pflag reads the next argument as its value, which stays refused here.
    [["--message", "--stack=prod"], "--stack=prod", "--stack", STACK],
  ])("refuses %j", (args, shown, flag, effect) => {
    const check = (): void => checkPassThroughArgs(args);
    expect(check).toThrow(RefusedPulumiInputError);
    expect(check).toThrow(`${shown}: refused, pulumi's ${flag} ${effect}; nothing was run`);
  });

  it.each([
    [[]],
    [["--yes", "-f", "--diff", "--refresh", "-r", "--remove"]],
    [["--target", "urn:pulumi:prod::cdc-pipeline::aws:s3/bucketV2:BucketV2::data"]],
    // The rest of a value-taking shorthand is its value, even when it holds an s or a C.
    [["-turn:pulumi:pr-9::cdc-pipeline::aws:s3/bucketV2:BucketV2::data", "-mCleanup of stacks"]],
    [["-y=true", "-p4", "--message=--stack", "--stacks", "--cwdx"]],
  ])("passes %j", (args) => {
    expect(() => checkPassThroughArgs(args)).not.toThrow();
  });
});

describe("checkPulumiEnvironment", () => {
  it.each([
    ["PULUMI_OPTION_STACK", "--stack", STACK],
    ["PULUMI_OPTION_CWD", "--cwd", CWD],
    ["PULUMI_OPTION_CONFIG_FILE", "--config-file", CONFIG_FILE],
  ])("refuses %s (pulumi reads every flag from PULUMI_OPTION_<FLAG>)", (variable, flag, effect) => {
    expect(() => checkPulumiEnvironment({ [variable]: "prod" })).toThrow(
      `${variable} is set: pulumi reads it as ${flag}, which ${effect}; unset it (nothing was run)`,
    );
  });

  it("passes an environment without them", () => {
    expect(() =>
      checkPulumiEnvironment({ PULUMI_OPTION_YES: "true", PULUMI_BACKEND_URL: "file:///tmp/state" }),
    ).not.toThrow();
  });
});
