/**
 * writeDurably remembers the directories it made (each file's write skips two mkdir calls): a directory
 * removed since then is made again, and the file lands whole; other failures are not retried and leave no
 * temp file behind. A connector's offset file stays in its folder whatever the connector is named.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { offsetFilePath, writeDurably } from "../../../connectors/local/durable";

describe("writeDurably", () => {
  const dirs: string[] = [];
  const root = (): string => {
    const dir = mkdtempSync(join(tmpdir(), "durable-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("writes into a target and temp directory removed since its last write there", async () => {
    const base = root();
    const target = join(base, "bucket", "topic", "a.json");
    const temp = join(base, "tmp");
    await writeDurably(target, (path) => writeFile(path, "one"), temp);
    rmSync(join(base, "bucket"), { recursive: true });
    rmSync(temp, { recursive: true });
    let calls = 0;
    await writeDurably(
      target,
      async (path) => {
        calls += 1;
        await writeFile(path, "two");
      },
      temp,
    );
    expect(readFileSync(target, "utf8")).toBe("two");
    expect(calls).toBe(2);
    expect(readdirSync(temp)).toEqual([]);
  });

  it("does not retry a failure other than a missing directory", async () => {
    const base = root();
    const target = join(base, "out", "b.json");
    let calls = 0;
    const failing = writeDurably(target, async () => {
      calls += 1;
      throw Object.assign(new Error("disk full"), { code: "ENOSPC" });
    });
    await expect(failing).rejects.toThrow("disk full");
    expect(calls).toBe(1);
    expect(existsSync(target)).toBe(false);
  });

  it.each([
    {
      failure: "the write fails half-way",
      write: async (path: string) => {
        await writeFile(path, "half a file");
        throw Object.assign(new Error("disk full"), { code: "ENOSPC" });
      },
      prepare: () => undefined,
      error: "disk full",
      // The target's folder, made for the write, stays empty.
      left: [],
    },
    {
      failure: "the rename fails (the target is a folder with a file in it)",
      write: (path: string) => writeFile(path, "a whole file"),
      prepare: (target: string) => {
        mkdirSync(target, { recursive: true });
        writeFileSync(join(target, "kept"), "not ours");
      },
      error: /EISDIR|ENOTEMPTY|EEXIST/,
      // The folder in the target's place is untouched.
      left: ["c.json", "c.json/kept"],
    },
  ])(
    "removes its temp file when $failure, and throws the failure",
    async ({ write, prepare, error, left }) => {
      const base = root();
      const target = join(base, "out", "c.json");
      const temp = join(base, "tmp");
      prepare(target);
      await expect(writeDurably(target, write, temp)).rejects.toThrow(error);
      expect(readdirSync(temp)).toEqual([]);
      expect(readdirSync(join(base, "out"), { recursive: true }).sort()).toEqual(left);
    },
  );
});

describe("offsetFilePath", () => {
  it.each([
    ["source", "src", "/b/.connect-offsets/source-src.json"],
    ["sink", "orders sink v2.1", "/b/.connect-offsets/sink-orders sink v2.1.json"],
    // A name that is only dots stays one file name: the role prefixes it.
    ["source", "..", "/b/.connect-offsets/source-...json"],
  ] as const)("%s %j is %s", (role, name, path) => {
    expect(offsetFilePath("/b", role, name)).toBe(path);
  });

  it.each([
    ["../../../etc/x", 'connector name "../../../etc/x" contains "/"'],
    ["a/b", 'connector name "a/b" contains "/"'],
    ["a\nb", 'connector name "a\\nb" contains control characters'],
  ])("refuses %j, which would put the file elsewhere", (name, message) => {
    expect(() => offsetFilePath("/b", "source", name)).toThrow(message);
  });
});
