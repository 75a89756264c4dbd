// moto's server as the catalog tests use it: provisioned from the pinned requirements, one line naming
// what to install when python3 is missing, started on a free port and gone after stop().
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { MissingPrerequisiteError } from "../../engines/cache";
import { ensureMoto, MOTO_REQUIREMENTS, motoVersion, startMoto } from "../../engines/moto";

const quiet = () => undefined;
const path = process.env.PATH;
afterEach(() => {
  process.env.PATH = path;
});

describe("provisioning", () => {
  it("pins moto 5.2.6 and every package it installs", () => {
    const requirements = readFileSync(MOTO_REQUIREMENTS, "utf8");
    expect(motoVersion(requirements)).toBe("5.2.6");
    const lines = requirements.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(lines.filter((l) => !/^[A-Za-z0-9_.-]+(\[server\])?==\S+$/.test(l))).toEqual([]);
  });

  it("names a requirements file without the pin", () => {
    expect(() => motoVersion("boto3==1.44.18\n")).toThrow(
      `${MOTO_REQUIREMENTS} does not pin moto[server]==<version>`,
    );
  });

  it("without python3 on PATH: one line naming what to install", async () => {
    process.env.PATH = "/nonexistent";
    const missing = ensureMoto(quiet);
    await expect(missing).rejects.toBeInstanceOf(MissingPrerequisiteError);
    await expect(missing).rejects.toThrow(
      /^python3 not found on PATH: it is needed to run moto, the AWS API emulator of the catalog tests; install Python 3\.9 or later with its venv module \(Debian\/Ubuntu: apt install python3 python3-venv\)$/,
    );
  });
});

describe("the server", () => {
  it("answers on a free local port and is gone after stop()", async () => {
    const moto = await startMoto(quiet);
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answer = await fetch(`${moto.endpoint}/moto-api/data.json`);
    expect(answer.status).toBe(200);
    await moto.stop();
    await expect(fetch(`${moto.endpoint}/moto-api/data.json`)).rejects.toThrow("fetch failed");
  }, 120_000);
});
