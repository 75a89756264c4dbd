/**
 * The Pulumi engine, offline, for programs run through the Automation API: the CLI (provision.ts), a
 * `file://` backend and a passphrase secrets provider in a folder the caller owns, no update checks and no
 * plugin downloads, the dynamic-provider plugin that runs this repository's @pulumi/pulumi, and a plugin
 * home in the engines cache (where the locally built Kafka provider is registered).
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { LocalWorkspace, PulumiCommand, type InlineProgramArgs, type Stack } from "@pulumi/pulumi/automation";
import { pulumiHome, type Progress } from "./cache";
import { ensurePulumiCli } from "./provision";

export interface PulumiEngine {
  /** The CLI's folder (holds `pulumi`). */
  readonly binDir: string;
  /** The environment every `pulumi` command runs with. */
  readonly env: Record<string, string>;
  readonly command: PulumiCommand;
  /** Creates (or selects) a stack of an inline program in this engine's backend. */
  stack(args: InlineProgramArgs): Promise<Stack>;
}

/**
 * `pulumi-resource-pulumi-nodejs`, as the CLI's release ships it (a shell script running node on
 * @pulumi/pulumi's dynamic-provider entry), pinned to the @pulumi/pulumi this repository installed: the
 * provider the engine loads is deserialized by the same SDK that serialized it. The release's script runs in
 * the project folder, where the deserialized provider's `require`s resolve; an inline program has none, so
 * this one runs where that @pulumi/pulumi is installed.
 */
function writeDynamicProviderPlugin(binDir: string): void {
  const entry = require.resolve("@pulumi/pulumi/cmd/dynamic-provider");
  const modulesRoot = join(dirname(require.resolve("@pulumi/pulumi/package.json")), "..", "..", "..");
  const script = join(binDir, "pulumi-resource-pulumi-nodejs");
  writeFileSync(
    script,
    `#!/bin/sh\ncd "${modulesRoot}" || exit 1\nexec "${process.execPath}" "${entry}" "$@"\n`,
  );
  chmodSync(script, 0o755);
}

/** Prepares an engine whose state, plugins script and workspaces live under `dir`. */
export async function startPulumiEngine(dir: string, progress: Progress): Promise<PulumiEngine> {
  const binDir = await ensurePulumiCli(progress);
  const shims = join(dir, "bin");
  const state = join(dir, "state");
  mkdirSync(shims, { recursive: true });
  mkdirSync(state, { recursive: true });
  mkdirSync(pulumiHome(), { recursive: true });
  writeDynamicProviderPlugin(shims);
  const env: Record<string, string> = {
    PATH: [shims, binDir, dirname(process.execPath), process.env.PATH ?? ""].join(delimiter),
    PULUMI_HOME: pulumiHome(),
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: "real-engine-tests",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
  };
  const command = await PulumiCommand.get({ root: dirname(binDir) });
  return {
    binDir,
    env,
    command,
    stack: (args) =>
      LocalWorkspace.createOrSelectStack(args, {
        pulumiCommand: command,
        envVars: env,
        pulumiHome: pulumiHome(),
        projectSettings: {
          name: args.projectName,
          runtime: "nodejs",
          backend: { url: env.PULUMI_BACKEND_URL },
        },
      }),
  };
}
