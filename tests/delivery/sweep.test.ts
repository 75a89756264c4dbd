import { describe, expect, it } from "vitest";
import { parseStackList, planSweep, type StackSummary } from "../../delivery/sweep";

const LABEL = "review-stack";

describe("planSweep", () => {
  const stacks: StackSummary[] = [
    { name: "dev", resourceCount: 180 },
    { name: "prod", resourceCount: 210 },
    { name: "pr-12", resourceCount: 150 },
    { name: "acme/cdc-pipeline/pr-7", resourceCount: 150 },
    { name: "pr-30", resourceCount: 3 },
    { name: "pr-31", updateInProgress: true },
    { name: "pr-40", updateInProgress: true },
    { name: "pr-8" },
    { name: "sandbox-pr-9" },
  ];
  const open = [
    { number: 12, labels: ["review-stack", "infra"] },
    { number: 30, labels: ["infra"] },
    { number: 40, labels: ["review-stack"] },
    { number: 99, labels: ["review-stack"] },
  ];

  it("destroys review stacks of closed or unlabelled PRs, keeps the rest, waits on running updates", () => {
    expect(planSweep(stacks, open, LABEL)).toEqual([
      { stack: "pr-7", pullRequest: 7, action: "destroy", reason: "#7 is not open" },
      { stack: "pr-8", pullRequest: 8, action: "destroy", reason: "#8 is not open" },
      { stack: "pr-12", pullRequest: 12, action: "keep", reason: "#12 is open with label review-stack" },
      { stack: "pr-30", pullRequest: 30, action: "destroy", reason: "#30 no longer has label review-stack" },
      { stack: "pr-31", pullRequest: 31, action: "wait", reason: "an update is in progress" },
      { stack: "pr-40", pullRequest: 40, action: "keep", reason: "#40 is open with label review-stack" },
    ]);
  });

  it.each([
    ["no stacks", [], open, []],
    ["only long-lived stacks", [{ name: "dev" }, { name: "prod" }], [], []],
    [
      "no open PRs",
      [{ name: "pr-1" }, { name: "pr-2" }],
      [],
      [
        { stack: "pr-1", pullRequest: 1, action: "destroy", reason: "#1 is not open" },
        { stack: "pr-2", pullRequest: 2, action: "destroy", reason: "#2 is not open" },
      ],
    ],
  ])("%s", (_what, stackList, openList, expected) => {
    expect(planSweep(stackList, openList, LABEL)).toEqual(expected);
  });

  it("uses the label it is given", () => {
    expect(planSweep([{ name: "pr-5" }], [{ number: 5, labels: ["preview-env"] }], "preview-env")).toEqual([
      { stack: "pr-5", pullRequest: 5, action: "keep", reason: "#5 is open with label preview-env" },
    ]);
  });
});

describe("parseStackList", () => {
  it("reads `pulumi stack ls --json`", () => {
    const text = JSON.stringify([
      {
        name: "dev",
        current: true,
        lastUpdate: "2026-12-01T10:00:00.000Z",
        updateInProgress: false,
        resourceCount: 180,
        url: "https://app.pulumi.com/acme/cdc-pipeline/dev",
      },
      { name: "pr-3", current: false, updateInProgress: true },
    ]);
    expect(parseStackList(text, "stacks.json")).toEqual([
      { name: "dev", lastUpdate: "2026-12-01T10:00:00.000Z", updateInProgress: false, resourceCount: 180 },
      { name: "pr-3", updateInProgress: true },
    ]);
  });

  it.each([
    [
      "not JSON",
      "Logged in as ci",
      "stacks.json: not JSON (expected the output of `pulumi stack ls --json`): Unexpected token 'L', \"Logged in as ci\" is not valid JSON",
    ],
    [
      "not a list",
      '{"name":"dev"}',
      "stacks.json: top level: Invalid input: expected array, received object",
    ],
    [
      "an entry without a name",
      '[{"name":"dev"},{"current":true}]',
      "stacks.json: [1].name: Invalid input: expected string, received undefined",
    ],
    [
      "a wrong type",
      '[{"name":"pr-1","updateInProgress":"yes"}]',
      "stacks.json: [0].updateInProgress: Invalid input: expected boolean, received string",
    ],
  ])("rejects %s, naming where", (_what, text, message) => {
    expect(() => parseStackList(text, "stacks.json")).toThrow(message);
  });
});
