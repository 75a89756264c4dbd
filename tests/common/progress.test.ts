/** The tools' common progress reporter: JSON lines off a terminal, bars and step lines on one. */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgress } from "../../common/progress";

function capture(isTTY: boolean): { stream: PassThrough; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .map(({ time, level, ...rest }) => {
      // ISO times (CloudWatch and people read them), info level.
      expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(level).toBe(30);
      return rest;
    });

describe("createProgress off a terminal", () => {
  it("logs steps, throttled bar lines with the last one, and counters without a total", async () => {
    const out = capture(false);
    const progress = createProgress({
      component: "tool",
      interactive: false,
      stream: out.stream,
      jsonIntervalMs: 60_000,
    });
    progress.step("starting", { dir: "/x" });
    const bar = progress.bar("files-read", "reading", 10);
    bar.update(1, { table: "t" }); // first line of the bar
    bar.update(5, { table: "t" }); // within the interval: not logged
    bar.setTotal(12);
    bar.finish({ table: "t" });
    progress.bar("records", "captured").finish({ files: 3 });
    progress.step("done", { event: "run-done" });
    progress.close();
    await new Promise((r) => setImmediate(r));
    expect(jsonLines(out.text())).toEqual([
      { component: "tool", event: "step", dir: "/x", msg: "starting" },
      { component: "tool", event: "files-read", done: 1, total: 10, table: "t", msg: "reading" },
      { component: "tool", event: "files-read", done: 5, total: 12, table: "t", msg: "reading" },
      { component: "tool", event: "records", done: 0, files: 3, msg: "captured" },
      { component: "tool", event: "run-done", msg: "done" },
    ]);
  });

  it("logs at the level asked for, and nothing below it", async () => {
    const out = capture(false);
    const progress = createProgress({
      component: "tool",
      interactive: false,
      level: "warn",
      stream: out.stream,
    });
    progress.step("not shown");
    progress.logger.warn("shown");
    progress.close();
    await new Promise((r) => setImmediate(r));
    expect(
      out
        .text()
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ).toEqual(["shown"]);
  });
});

describe("createProgress on a terminal", () => {
  it("writes steps as lines, draws bars with their detail, and logs only warnings", async () => {
    const out = capture(true);
    const progress = createProgress({
      component: "tool",
      interactive: true,
      level: "info",
      stream: out.stream,
    });
    progress.step("starting the server");
    progress.logger.info("not on a terminal");
    const bar = progress.bar("workload-progress", "workload", 100);
    bar.update(50, { transactions: 7 });
    progress.close();
    await new Promise((r) => setImmediate(r));
    const text = out.text();
    expect(text.startsWith("starting the server\n")).toBe(true);
    expect(text).toContain(" workload [");
    expect(text).toContain("] 50/100 transactions 7");
    expect(text).not.toContain("not on a terminal");
  });

  it("prints log entries as plain lines from the terminal level the tool asks for", async () => {
    const out = capture(true);
    const progress = createProgress({
      component: "tool",
      interactive: true,
      terminalLevel: "info",
      stream: out.stream,
    });
    progress.logger.debug("below the level");
    progress.logger.info({ stack: "dev" }, "selected stack dev");
    progress.logger.warn("careful");
    progress.close();
    await new Promise((r) => setImmediate(r));
    expect(out.text()).toBe("selected stack dev\ncareful\n");
  });
});
