// The SCD2 run rules against ECS "Task State Change" events in the shape AWS documents (Amazon ECS
// Developer Guide, "Amazon ECS task state change events"): every way a run ends is either a failed
// run (the alarm topic) or a successful one (the heartbeat), never both, and other tasks are neither.
import { describe, expect, it } from "vitest";
import { failedRunPattern, succeededRunPattern } from "../../infra/run-events";
import { matchesPattern } from "./event-pattern";

const ACCOUNT = "123456789012";
const CLUSTER = `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/connect-cluster-7e1`;
const FAMILY = "cdc-pipeline-dev-scd2";
const TASK = `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/connect-cluster-7e1/c13b4cb40f1f4fe4a2971f76ae5a47ad`;

interface Ending {
  lastStatus?: string;
  stopCode?: string;
  stoppedReason?: string;
  /** The container's exit code; absent when it never ran. */
  exitCode?: number;
  containerReason?: string;
  family?: string;
  cluster?: string;
}

/** A task state change event of the job's task, as ECS sends it, ending as `e` says. */
function taskEvent(e: Ending): object {
  const stopped = (e.lastStatus ?? "STOPPED") === "STOPPED";
  const cluster = e.cluster ?? CLUSTER;
  return {
    version: "0",
    id: "105f6bd3-b7c8-c9a6-3a4c-bd7e8c5a3b39",
    "detail-type": "ECS Task State Change",
    source: "aws.ecs",
    account: ACCOUNT,
    time: "2026-12-06T12:57:58Z",
    region: "eu-west-1",
    resources: [TASK],
    detail: {
      attachments: [
        {
          id: "1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8",
          type: "eni",
          status: stopped ? "DELETED" : "ATTACHED",
          details: [
            { name: "subnetId", value: "subnet-abcd1234" },
            { name: "networkInterfaceId", value: "eni-abcd1234" },
            { name: "privateIPv4Address", value: "10.42.0.139" },
          ],
        },
      ],
      availabilityZone: "eu-west-1a",
      clusterArn: cluster,
      containers: [
        {
          containerArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:container/cf159fd6-3e3f-4a9e-84f9-66cbe726af01`,
          lastStatus: e.lastStatus ?? "STOPPED",
          name: "scd2",
          image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/analytics-job-repo@sha256:${"ab".repeat(32)}`,
          taskArn: TASK,
          networkInterfaces: [{ attachmentId: "1789bcae", privateIpv4Address: "10.42.0.139" }],
          cpu: "0",
          ...(e.exitCode === undefined ? {} : { exitCode: e.exitCode }),
          ...(e.containerReason ? { reason: e.containerReason } : {}),
        },
      ],
      createdAt: "2026-12-06T12:57:34.402Z",
      launchType: "FARGATE",
      cpu: "1024",
      memory: "4096",
      desiredStatus: "STOPPED",
      group: `family:${e.family ?? FAMILY}`,
      lastStatus: e.lastStatus ?? "STOPPED",
      overrides: { containerOverrides: [{ name: "scd2" }] },
      connectivity: "CONNECTED",
      ...(stopped
        ? {
            stopCode: e.stopCode,
            stoppedReason: e.stoppedReason,
            stoppingAt: "2026-12-06T12:57:55.000Z",
            stoppedAt: "2026-12-06T12:57:58.000Z",
          }
        : {}),
      taskArn: TASK,
      taskDefinitionArn: cluster.replace(/:cluster\/.*$/, `:task-definition/${e.family ?? FAMILY}:3`),
      updatedAt: "2026-12-06T12:57:58.000Z",
      version: 5,
      platformVersion: "1.4.0",
    },
  };
}

const exited = "Essential container in task exited";

describe("SCD2 run rules", () => {
  // [case, ending, failed-run rule matches, succeeded-run rule matches]
  it.each<[string, Ending, boolean, boolean]>([
    [
      "the job exits 0",
      { stopCode: "EssentialContainerExited", stoppedReason: exited, exitCode: 0 },
      false,
      true,
    ],
    [
      "the job exits 1",
      { stopCode: "EssentialContainerExited", stoppedReason: exited, exitCode: 1 },
      true,
      false,
    ],
    [
      "the job is killed for memory",
      {
        stopCode: "EssentialContainerExited",
        stoppedReason: exited,
        exitCode: 137,
        containerReason: "OutOfMemoryError: Container killed due to memory usage",
      },
      true,
      false,
    ],
    [
      "the image cannot be pulled",
      {
        stopCode: "TaskFailedToStart",
        stoppedReason: "CannotPullContainerError: pull image manifest has been retried 1 time(s)",
        containerReason: "CannotPullContainerError: pull image manifest has been retried 1 time(s)",
      },
      true,
      false,
    ],
    [
      "the task cannot reach ECR or Secrets Manager",
      {
        stopCode: "TaskFailedToStart",
        stoppedReason: "ResourceInitializationError: unable to pull secrets or registry auth",
      },
      true,
      false,
    ],
    [
      // An essential container that stops without an exit code (it never ran) is no success.
      "the container stops without an exit code",
      { stopCode: "EssentialContainerExited", stoppedReason: exited },
      true,
      false,
    ],
    [
      "someone stops the run",
      { stopCode: "UserInitiated", stoppedReason: "Task stopped by user", exitCode: 0 },
      true,
      false,
    ],
    [
      "Fargate retires the host",
      { stopCode: "TerminationNotice", stoppedReason: "Task stopped by ECS", exitCode: 143 },
      true,
      false,
    ],
    ["a run that is still going", { lastStatus: "RUNNING" }, false, false],
    [
      "a failed task of another family (a Connect worker)",
      { stopCode: "EssentialContainerExited", exitCode: 1, family: "cdc-pipeline-dev-connect" },
      false,
      false,
    ],
    [
      "a failed task of the same family in another stack's cluster",
      {
        stopCode: "EssentialContainerExited",
        exitCode: 1,
        cluster: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/other-cluster`,
      },
      false,
      false,
    ],
    [
      // The prefix ends at the colon before the revision: `-scd2` is not `-scd2-old`.
      "a failed task of a family that only starts like the job's",
      { stopCode: "EssentialContainerExited", exitCode: 1, family: `${FAMILY}-old` },
      false,
      false,
    ],
  ])("%s: failed %s, succeeded %s", (_case, ending, failed, succeeded) => {
    const event = taskEvent(ending);
    expect([
      matchesPattern(failedRunPattern(CLUSTER, FAMILY), event),
      matchesPattern(succeededRunPattern(CLUSTER, FAMILY), event),
    ]).toEqual([failed, succeeded]);
  });
});

describe("the pattern matcher", () => {
  it.each<[object, object, boolean]>([
    [{ a: ["x"] }, { a: "x" }, true],
    [{ a: ["x"] }, { a: ["y", "x"] }, true],
    [{ a: [{ prefix: "ab" }] }, { a: "abc" }, true],
    [{ a: [{ "anything-but": 0 }] }, { a: 0 }, false],
    [{ a: [{ "anything-but": 0 }] }, {}, false],
    [{ a: [{ exists: false }] }, {}, true],
    [{ a: { b: [{ exists: false }] } }, { a: [{ c: 1 }] }, true],
    [{ a: { b: [1] } }, { a: [{ b: 2 }, { b: 1 }] }, true],
    [{ $or: [{ a: [1] }, { b: [2] }] }, { b: 2 }, true],
    [{ $or: [{ a: [1] }, { b: [2] }] }, { a: 2, b: 1 }, false],
  ])("%j against %j is %s", (pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it("refuses an operator it does not implement", () => {
    expect(() => matchesPattern({ a: [{ numeric: [">", 0] }] }, { a: 1 })).toThrow(
      "operator the matcher does not know: numeric",
    );
  });
});
