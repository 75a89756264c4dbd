/**
 * moto's server, a real-API emulator of AWS services (Glue, IAM, ...), for the tests of the job's Glue
 * catalog updates: a Python venv with the packages engines/python/moto-requirements.txt pins, built once
 * under the engines cache (cache.ts), and a server started on a free local port per test file.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildOnce, cacheRoot, requireProgram, runLogged, type Progress } from "./cache";
import { ENGINES_DIR } from "./versions";

export const MOTO_REQUIREMENTS = join(ENGINES_DIR, "python", "moto-requirements.txt");

const PYTHON_INSTALL =
  "Python 3.9 or later with its venv module (Debian/Ubuntu: apt install python3 python3-venv)";

/** The moto version the requirements file pins (`moto[server]==<version>`). */
export function motoVersion(requirements = readFileSync(MOTO_REQUIREMENTS, "utf8")): string {
  const match = /^moto\[server\]==(\S+)$/m.exec(requirements);
  if (!match?.[1]) throw new Error(`${MOTO_REQUIREMENTS} does not pin moto[server]==<version>`);
  return match[1];
}

/**
 * The venv's python, with moto installed: built on first use (pip, from the requirements file) into
 * `moto-<version>-py<python>-<hash of the file>`. Missing python3 is one line naming what to install.
 */
export async function ensureMoto(progress: Progress): Promise<string> {
  await requireProgram("python3", "run moto, the AWS API emulator of the catalog tests", PYTHON_INSTALL);
  const requirements = readFileSync(MOTO_REQUIREMENTS, "utf8");
  const version = motoVersion(requirements);
  const python = execFileSync("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
    encoding: "utf8",
  }).trim();
  const hash = createHash("sha256").update(requirements).digest("hex").slice(0, 12);
  const dir = join(cacheRoot(), `moto-${version}-py${python}-${hash}`);
  await buildOnce(
    dir,
    `moto ${version} (PyPI, Python ${python})`,
    async (staging) => {
      const logFile = join(staging, "build.log");
      await runLogged("python3", ["-m", "venv", staging], { cwd: staging, logFile }).catch((error: Error) => {
        throw new Error(`${error.message}\n(install ${PYTHON_INSTALL})`);
      });
      await runLogged(
        join(staging, "bin", "python"),
        ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", MOTO_REQUIREMENTS],
        { cwd: staging, logFile },
      );
    },
    progress,
  );
  // Run as `python -m moto.server`: a venv's console scripts keep the staging path in their first line,
  // its python finds the venv from where it is.
  return join(dir, "bin", "python");
}

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the endpoint for the AWS SDK (e.g. AWS_ENDPOINT_URL_GLUE). */
  readonly endpoint: string;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));

/** Starts moto's server on a free port of 127.0.0.1; resolves once it answers. */
export async function startMoto(progress: Progress, env: NodeJS.ProcessEnv = {}): Promise<MotoServer> {
  const python = await ensureMoto(progress);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited(child);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto's server exited with code ${child.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/data.json`)).ok) return { endpoint, stop };
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto's server did not answer on ${endpoint} within 60 s:\n${log}`);
    }
    await sleep(200);
  }
}
