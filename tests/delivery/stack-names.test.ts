import { UsageError } from "../../delivery/errors";
import { describe, expect, it } from "vitest";
import {
  checkStackName,
  reviewStackPullRequest,
  shortStackName,
  stackFileName,
} from "../../delivery/stack-names";

describe("stack names", () => {
  it.each([
    ["pr-1", 1],
    ["pr-4711", 4711],
    ["acme/pr-12", 12],
    ["acme/cdc-pipeline/pr-12", 12],
    ["dev", undefined],
    ["prod", undefined],
    ["pr-0", undefined],
    ["pr-012", undefined],
    ["pr-", undefined],
    ["pr-12-old", undefined],
    ["xpr-12", undefined],
    ["PR-12", undefined],
  ])("reviewStackPullRequest(%j) = %j", (name, expected) => {
    expect(reviewStackPullRequest(name)).toBe(expected);
  });

  it.each([
    ["dev", "dev", "Pulumi.dev.yaml"],
    ["acme/pr-3", "pr-3", "Pulumi.pr-3.yaml"],
    ["acme/cdc-pipeline/prod", "prod", "Pulumi.prod.yaml"],
  ])("%j is %j in %j", (name, short, file) => {
    expect(checkStackName(name)).toBe(name);
    expect(shortStackName(name)).toBe(short);
    expect(stackFileName(name)).toBe(file);
  });

  it.each(["", "bad name", "a/b/c/d", "dev;rm", "../dev"])("rejects the stack name %j", (name) => {
    expect(() => checkStackName(name)).toThrow(UsageError); // a bad argument: exit 2
    expect(() => checkStackName(name)).toThrow(
      `stack name ${JSON.stringify(name)} is not valid: start with a letter or digit, then letters, digits, "-", "_" or "."; optionally prefixed by "org/"`,
    );
  });
});
