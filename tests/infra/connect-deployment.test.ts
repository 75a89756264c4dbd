// The Connect service's deployment bounds against ECS's rounding: every configured worker count
// can roll, replacements start before old workers stop, and the old bounds deadlock one worker.
import { describe, expect, it } from "vitest";
import { CONNECT_DEPLOYMENT, deploymentRoom } from "../../infra/connect-deployment";

describe("Connect deployment bounds", () => {
  it.each([
    // [count, new tasks ECS may start at once, old tasks it may stop before they are replaced]
    [1, 1, 0],
    [2, 2, 0],
    [3, 3, 0],
    [20, 20, 0],
  ])(
    "a service of %i worker(s) starts %i replacement(s) at once and stops %i early",
    (count, start, stop) => {
      expect(deploymentRoom(count, CONNECT_DEPLOYMENT)).toEqual({ start, stop });
    },
  );

  it.each([
    // [minimumHealthyPercent, maximumPercent, count, room]: how ECS rounds (min up, max down)
    [50, 100, 1, { start: 0, stop: 0 }], // the bounds this stack had: one worker never rolls
    [50, 100, 2, { start: 0, stop: 1 }],
    [50, 100, 3, { start: 0, stop: 1 }],
    [0, 100, 1, { start: 0, stop: 1 }],
    [100, 150, 3, { start: 1, stop: 0 }],
  ])("min %i%% max %i%% over %i task(s) leaves %j", (minimumHealthyPercent, maximumPercent, count, room) => {
    expect(deploymentRoom(count, { minimumHealthyPercent, maximumPercent })).toEqual(room);
  });
});
