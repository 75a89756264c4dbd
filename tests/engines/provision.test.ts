// The engines' provisioning: one build for concurrent callers, nothing that looks complete after a failed
// build, one clear line for a missing prerequisite, and pins that follow the lockfile.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildOnce, MissingPrerequisiteError, requireProgram } from "../../engines/cache";
import { engineVersions, ENGINES_DIR } from "../../engines/versions";

const roots: string[] = [];
function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), "cdc-engines-"));
  roots.push(root);
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const quiet = () => undefined;

describe("buildOnce", () => {
  it("builds once for concurrent callers and hands every caller the same folder", async () => {
    const dir = join(scratch(), "thing-v1");
    let builds = 0;
    const build = async (staging: string) => {
      builds += 1;
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(join(staging, "artifact"), "built");
    };
    const results = await Promise.all([1, 2, 3].map(() => buildOnce(dir, "thing", build, quiet)));
    expect(results).toEqual([dir, dir, dir]);
    expect(builds).toBe(1);
    expect(readFileSync(join(dir, "artifact"), "utf8")).toBe("built");
    expect(existsSync(`${dir}.lock`)).toBe(false);
    // Cached: no build at all the next time.
    await buildOnce(dir, "thing", build, quiet);
    expect(builds).toBe(1);
  });

  it("leaves nothing that looks complete when the build fails, and builds again next time", async () => {
    const dir = join(scratch(), "thing-v1");
    const failing = buildOnce(dir, "thing", () => Promise.reject(new Error("compiler exploded")), quiet);
    await expect(failing).rejects.toThrow("compiler exploded");
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(`${dir}.lock`)).toBe(false);
    await buildOnce(dir, "thing", async (staging) => writeFileSync(join(staging, "artifact"), "ok"), quiet);
    expect(readFileSync(join(dir, "artifact"), "utf8")).toBe("ok");
  });

  it("refuses to replace a folder it did not complete, naming it", async () => {
    const dir = join(scratch(), "thing-v1");
    mkdirSync(dir);
    writeFileSync(join(dir, "someone-elses-file"), "keep me");
    const attempt = buildOnce(dir, "thing", async () => undefined, quiet);
    await expect(attempt).rejects.toThrow(`${dir} exists but is not a complete build of thing`);
    expect(readFileSync(join(dir, "someone-elses-file"), "utf8")).toBe("keep me");
  });

  it("takes over a lock whose process is gone", async () => {
    const dir = join(scratch(), "thing-v1");
    writeFileSync(`${dir}.lock`, "999999999");
    await buildOnce(dir, "thing", async (staging) => writeFileSync(join(staging, "artifact"), "ok"), quiet);
    expect(readFileSync(join(dir, "artifact"), "utf8")).toBe("ok");
  });
});

describe("prerequisites", () => {
  it("names the missing program, what it is for and what to install, in one line", async () => {
    const missing = requireProgram("cdc-no-such-program", "run Kafka", "a JDK 17 or later");
    await expect(missing).rejects.toBeInstanceOf(MissingPrerequisiteError);
    await expect(missing).rejects.toThrow(
      /^cdc-no-such-program not found on PATH: it is needed to run Kafka; install a JDK 17 or later$/,
    );
  });

  it("accepts a program that runs", async () => {
    await expect(requireProgram("node", "run tests", "Node.js")).resolves.toBeUndefined();
  });
});

describe("pins", () => {
  it("builds the Pulumi CLI at the lockfile's @pulumi/pulumi version", () => {
    const lock = JSON.parse(readFileSync(join(ENGINES_DIR, "..", "package-lock.json"), "utf8")) as {
      packages: Record<string, { version: string }>;
    };
    const version = lock.packages["node_modules/@pulumi/pulumi"]!.version;
    expect(engineVersions().pulumi).toBe(version);
    const goMod = readFileSync(join(ENGINES_DIR, "go", "pulumi-cli", "go.mod"), "utf8");
    expect(goMod).toMatch(
      new RegExp(`^require github\\.com/pulumi/pulumi/pkg/v3 v${version.replace(/\./g, "\\.")}$`, "m"),
    );
    expect(goMod).toMatch(
      new RegExp(`^\\s+github\\.com/pulumi/pulumi/sdk/v3 v${version.replace(/\./g, "\\.")}\\b`, "m"),
    );
  });

  it("runs Kafka 4 and Debezium 3.6.1.Final", () => {
    expect(engineVersions()).toMatchObject({
      kafka: expect.stringMatching(/^4\.\d+\.\d+$/),
      debezium: "3.6.1.Final",
    });
  });
});
