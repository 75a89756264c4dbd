/**
 * Where the engines' builds live and how one is made: outside the work tree (a fresh clone reuses them),
 * built once under a lock (parallel test files or benchmarks never build the same thing twice), into a
 * temporary folder renamed into place only when complete (a killed build leaves nothing that looks done).
 */
import { spawn } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isPidAlive } from "../local/postgres";

/** `$CDC_ENGINES_CACHE`, else `$XDG_CACHE_HOME/cdc-pipeline/engines`, else `~/.cache/cdc-pipeline/engines`. */
export function cacheRoot(): string {
  if (process.env.CDC_ENGINES_CACHE) return process.env.CDC_ENGINES_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "cdc-pipeline", "engines");
}

/** The Pulumi plugin home shared by every engine: plugins registered once stay registered. */
export function pulumiHome(): string {
  return join(cacheRoot(), "pulumi-home");
}

export type Progress = (message: string, fields?: Record<string, unknown>) => void;

/** A prerequisite program is missing: one line that names what to install. */
export class MissingPrerequisiteError extends Error {
  constructor(program: string, purpose: string, install: string) {
    super(`${program} not found on PATH: it is needed to ${purpose}; install ${install}`);
    this.name = "MissingPrerequisiteError";
  }
}

/** Runs a program, its output into `logFile`; a non-zero exit throws with the log's last lines. */
export function runLogged(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; logFile: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(options.logFile, { flags: "a" });
    log.write(`$ ${command} ${args.join(" ")}\n`);
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.once("error", (error) => {
      log.end();
      reject(error);
    });
    child.once("close", (code, signal) => {
      log.end(() => {
        if (code === 0) return resolve();
        const tail = readFileSync(options.logFile, "utf8").trimEnd().split("\n").slice(-25).join("\n");
        reject(
          new Error(
            `${command} ${args[0] ?? ""} failed (${signal ?? `exit ${code}`}); log ${options.logFile}:\n${tail}`,
          ),
        );
      });
    });
  });
}

/** Resolves when `program --version` (or the given args) runs; otherwise throws MissingPrerequisiteError. */
export function requireProgram(
  program: string,
  purpose: string,
  install: string,
  versionArgs: string[] = ["--version"],
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, versionArgs, { stdio: "ignore" });
    child.once("error", () => reject(new MissingPrerequisiteError(program, purpose, install)));
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new MissingPrerequisiteError(program, purpose, install)),
    );
  });
}

const DONE_MARKER = ".complete";
const LOCK_STALE_MS = 2 * 60 * 60 * 1000;

/**
 * Returns `dir` once it holds a complete build, running `build(stagingDir)` first if it does not. A lock file
 * beside it (with the builder's pid) makes other processes wait; a lock whose process is gone is taken over.
 */
export async function buildOnce(
  dir: string,
  what: string,
  build: (stagingDir: string) => Promise<void>,
  progress: Progress,
): Promise<string> {
  if (existsSync(join(dir, DONE_MARKER))) return dir;
  mkdirSync(join(dir, ".."), { recursive: true });
  const lock = `${dir}.lock`;
  let waitingSince: number | undefined;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lock, "utf8"));
      if (
        !Number.isInteger(holder) ||
        !isPidAlive(holder) ||
        Date.now() - (waitingSince ?? Date.now()) > LOCK_STALE_MS
      ) {
        rmSync(lock, { force: true });
        continue;
      }
      if (waitingSince === undefined) {
        waitingSince = Date.now();
        progress(`waiting for process ${holder} to finish building ${what}`, { lock });
      }
      await sleep(1000);
      if (existsSync(join(dir, DONE_MARKER))) return dir;
    }
  }
  try {
    if (existsSync(join(dir, DONE_MARKER))) return dir;
    const staging = `${dir}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const started = Date.now();
    progress(`building ${what} (once; cached in ${dir})`);
    // A build can run for minutes with nothing to show: say every 30 s that it still runs.
    const heartbeat = setInterval(() => {
      const seconds = Math.round((Date.now() - started) / 1000);
      progress(`still building ${what} (${seconds} s)`, { seconds });
    }, 30_000);
    try {
      await build(staging);
    } finally {
      clearInterval(heartbeat);
    }
    writeFileSync(join(staging, DONE_MARKER), new Date().toISOString());
    if (existsSync(dir)) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`${dir} exists but is not a complete build of ${what}: move it away, then run again`);
    }
    renameSync(staging, dir);
    progress(`built ${what} in ${((Date.now() - started) / 1000).toFixed(0)} s`, {
      seconds: (Date.now() - started) / 1000,
    });
    return dir;
  } finally {
    rmSync(lock, { force: true });
  }
}
