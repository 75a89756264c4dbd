/** Runs the Pulumi CLI in the repository root with the terminal attached (its prompts and progress). */
import { spawn } from "node:child_process";
import { checkPulumiEnvironment } from "./pulumi-target";

export class PulumiNotFoundError extends Error {
  constructor() {
    super("the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/iac/download-install/)");
    this.name = "PulumiNotFoundError";
  }
}

/** Resolves with pulumi's exit code; a signal counts as 128 + its number, like a shell. */
export function runPulumi(args: string[], cwd: string): Promise<number> {
  checkPulumiEnvironment(process.env);
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", args, { cwd, stdio: "inherit" });
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "ENOENT" ? new PulumiNotFoundError() : error),
    );
    child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 143)));
  });
}

/** Runs pulumi for its output (stderr still goes to the terminal); a failure is pulumi's message and exit code. */
export function pulumiOutput(args: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  checkPulumiEnvironment(process.env);
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", args, { cwd, stdio: ["inherit", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "ENOENT" ? new PulumiNotFoundError() : error),
    );
    child.once("close", (code, signal) =>
      resolve({ code: code ?? (signal === "SIGINT" ? 130 : 143), stdout }),
    );
  });
}
