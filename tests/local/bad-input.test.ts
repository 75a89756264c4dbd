/**
 * Bad input to the two local process CLIs, `npm start` and `cdc-connect-local`: each case asserts the
 * exit code (2 for a bad option, 1 for a config the tool cannot use), the first line of the message,
 * that the answer comes at once, and that the directory the tool would write is left as it was.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildSinkConnector } from "../../connectors/config";
import { REPO_ROOT } from "./npm-start-process";

/** Node + tsx loading a CLI on a busy 2-core machine: a bad option must be answered well within it. */
const ANSWER_WITHIN_MS = 15_000;

interface Outcome {
  code: number | null;
  firstLine: string;
  stderr: string;
  ms: number;
}

function run(command: string, args: string[]): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({ code, firstLine: stderr.split("\n")[0] ?? "", stderr, ms: Date.now() - started }),
    );
  });
}

const scratch = mkdtempSync(join(tmpdir(), "cdc-bad-input-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("npm start with bad options", () => {
  // A local directory holding a file of someone else's: a bad option must not touch it.
  const localDir = join(scratch, "local");
  mkdirSync(localDir);
  writeFileSync(join(localDir, "keep.txt"), "not npm start's");

  it.each([
    [["--bogus"], "error: unknown option '--bogus'"],
    [["--rate"], "error: option '--rate <tx/s>' argument missing"],
    [["--rate", "-3"], "npm start: invalid options"],
    [["--rate", "2.5"], "npm start: invalid options"],
    [["--duration", "soon"], "npm start: invalid options"],
    [["--duration", "7200"], "npm start: invalid options"],
    [["--local-dir", ""], "npm start: invalid options"],
    [["now"], "error: too many arguments. Expected 0 arguments but got 1."],
  ])("%j exits 2 with %j, at once, touching nothing", async (args, firstLine) => {
    const outcome = await run("npm", [
      "start",
      "--silent",
      "--",
      "--fresh",
      "--local-dir",
      localDir,
      ...args,
    ]);
    expect({ code: outcome.code, firstLine: outcome.firstLine }).toEqual({ code: 2, firstLine });
    expect(outcome.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(readdirSync(localDir)).toEqual(["keep.txt"]);
  });

  it("names each refused option as it is typed, one line each", async () => {
    const outcome = await run("npm", ["start", "--silent", "--", "--local-dir", "", "--rate", "0"]);
    expect(outcome.stderr).toBe(
      "npm start: invalid options\n  --rate: must be positive\n  --local-dir: must not be empty\n",
    );
  });
});

describe("cdc-connect-local with bad options or configs", () => {
  const bucketRoot = join(scratch, "bucket");
  mkdirSync(bucketRoot);
  const sink = join(scratch, "sink.json");
  writeFileSync(sink, JSON.stringify(buildSinkConnector({ bucket: "cdc-bucket", region: "eu-west-1" })));
  const file = (name: string, text: string): string => {
    writeFileSync(join(scratch, name), text);
    return join(scratch, name);
  };
  const cli = (args: string[]): Promise<Outcome> =>
    run(process.execPath, ["--import", "tsx", "connectors/local/cli.ts", ...args]);
  const withConfigs = (source: string): string[] => [
    "--source",
    source,
    "--sink",
    sink,
    "--bucket-root",
    bucketRoot,
  ];

  it.each([
    [[], 2, "error: required option '--source <file>' not specified"],
    [["--source"], 2, "error: option '--source <file>' argument missing"],
    [
      [...withConfigs(sink), "--log-level", "loud"],
      2,
      "error: option '--log-level <level>' argument 'loud' is invalid. " +
        "Allowed choices are fatal, error, warn, info, debug, trace, silent.",
    ],
    [
      withConfigs(join(scratch, "missing.json")),
      1,
      `cdc-connect-local: cannot read the source config ${join(scratch, "missing.json")}: ` +
        `ENOENT: no such file or directory, open '${join(scratch, "missing.json")}'`,
    ],
    [
      withConfigs(file("empty.json", "")),
      1,
      `cdc-connect-local: the source config ${join(scratch, "empty.json")} is not valid JSON: Unexpected end of JSON input`,
    ],
    [
      withConfigs(file("truncated.json", '{"name": "cdc-source", "config": {"connector.class": "io.deb')),
      1,
      `cdc-connect-local: the source config ${join(scratch, "truncated.json")} is not valid JSON: ` +
        "Unterminated string in JSON at position 60",
    ],
  ])("%j exits %i with %j, at once, writing nothing", async (args, code, firstLine) => {
    const outcome = await cli(args);
    expect({ code: outcome.code, firstLine: outcome.firstLine }).toEqual({ code, firstLine });
    expect(outcome.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(readdirSync(bucketRoot)).toEqual([]);
  });
});
