// The gap between two scheduled SCD2 runs, read from the schedule expression, and the window the
// no-successful-run alarm watches for it.
import { describe, expect, it } from "vitest";
import { heartbeatWindow, scheduleGapMinutes } from "../../infra/schedule-interval";

describe("scheduleGapMinutes", () => {
  it.each([
    ["rate(1 minute)", 1],
    ["rate(15 minutes)", 15],
    ["rate(1 hour)", 60],
    ["rate(2 days)", 2880],
    ["cron(15 * * * ? *)", 60], // prod: every hour at :15
    ["cron(0/20 * * * ? *)", 20],
    ["cron(5,50 * * * ? *)", 45], // :05 to :50 (then 15 minutes to the next :05)
    ["cron(0 6 * * ? *)", 1440],
    ["cron(0 8-18/2 * * ? *)", 14 * 60], // the night: 18:00 to 08:00
    ["cron(30 2 ? * MON-FRI *)", 3 * 1440], // Friday night to Monday night
    ["cron(0 0 ? * 1,4 *)", 4 * 1440], // Sunday (1) and Wednesday (4): the longer gap is Wed→Sun
  ])("%s runs at most %i minutes apart", (expression, minutes) => {
    expect(scheduleGapMinutes(expression)).toEqual({ minutes });
  });

  it.each([
    ["cron(0 6 1 * ? *)", "restricts day-of-month"],
    ["cron(0 6 ? 1 * *)", "restricts day-of-month"],
    ["cron(0 6 * * ? 2027)", "restricts day-of-month"],
    ["cron(0 6 ? * 2#1 *)", "cannot read"],
    ["cron(0 25 * * ? *)", "cannot read"],
    ["cron(*-5 * * * ? *)", "cannot read"],
    ["every hour", "is not a rate() or cron() expression"],
  ])("%s cannot be watched: %s", (expression, problem) => {
    const gap = scheduleGapMinutes(expression);
    expect("problem" in gap && gap.problem).toContain(problem);
  });
});

describe("heartbeatWindow", () => {
  it.each([
    [15, { periodSeconds: 900, evaluationPeriods: 2 }],
    [60, { periodSeconds: 3600, evaluationPeriods: 2 }],
    [5040, { periodSeconds: 302400, evaluationPeriods: 2 }], // 3.5 days: CloudWatch's 7-day limit
  ])("a gap of %i minutes is watched over %j", (gap, window) => {
    expect(heartbeatWindow(gap)).toEqual(window);
  });

  it("refuses a gap longer than two periods CloudWatch can evaluate", () => {
    expect(() => heartbeatWindow(5041)).toThrow("a gap of 5041 minutes is outside 1-5040");
  });
});
