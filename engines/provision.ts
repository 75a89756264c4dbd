/**
 * Provisions the real engines the tests and benchmarks run, on first use, into the cache (cache.ts):
 * Kafka (broker + Connect) with Debezium and the FileStream connectors, resolved by Maven from
 * engines/maven/pom.xml; the Pulumi CLI built with Go from engines/go/pulumi-cli, with Pulumi's YAML language
 * host from engines/go/pulumi-language-yaml beside it. Missing Java, Maven or Go is one clear line.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { buildOnce, cacheRoot, requireProgram, runLogged, type Progress } from "./cache";
import { ENGINES_DIR, POM_FILE, engineVersions } from "./versions";

export interface KafkaEngines {
  /** Folder of jars: the classpath of the broker, the Connect worker and the JSON converter. */
  libDir: string;
  /** Connect's `plugin.path`: `debezium-connector-postgres/` and `connect-file/`. */
  pluginsDir: string;
}

/** Environment for Go builds: caches under the engines cache, the local toolchain, modules as go.sum pins them. */
function goEnv(): NodeJS.ProcessEnv {
  const root = cacheRoot();
  return {
    ...process.env,
    GOMODCACHE: join(root, "go", "mod"),
    GOCACHE: join(root, "go", "build"),
    GOTOOLCHAIN: "local",
    GOFLAGS: "-mod=readonly",
  };
}

/** Kafka, Connect, Debezium: `mvn package` of the engines POM, in a folder named by the POM's content. */
export async function ensureKafkaEngines(progress: Progress): Promise<KafkaEngines> {
  const { kafka, debezium } = engineVersions();
  const pomHash = createHash("sha256").update(readFileSync(POM_FILE)).digest("hex").slice(0, 12);
  const dir = join(cacheRoot(), `kafka-${kafka}-debezium-${debezium}-${pomHash}`);
  await buildOnce(
    dir,
    `Kafka ${kafka} and Debezium ${debezium} (Maven Central)`,
    async (staging) => {
      await requireProgram("java", "run Kafka and Debezium", "a JDK 17 or later", ["-version"]);
      await requireProgram("mvn", "fetch Kafka and Debezium from Maven Central", "Apache Maven 3.8 or later");
      await runLogged(
        "mvn",
        [
          "-B",
          "-q",
          "-f",
          POM_FILE,
          `-Dmaven.repo.local=${join(cacheRoot(), "maven")}`,
          `-Dengines.dir=${staging}`,
          "package",
        ],
        { cwd: dirname(POM_FILE), logFile: join(dirname(staging), `${pomHash}-maven.log`) },
      );
    },
    progress,
  );
  return { libDir: join(dir, "lib"), pluginsDir: join(dir, "plugins") };
}

function requiredModuleVersion(goMod: string, module: string): string {
  const match = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[./]/g, "\\$&")} (v\\S+)`, "m").exec(
    goMod,
  );
  if (!match?.[1]) throw new Error(`go.mod does not require ${module}`);
  return match[1];
}

/** Fails when a wrapper module pins another version than the npm package the programs use. */
function checkPinned(wrapperDir: string, module: string, expected: string, npmPackage: string): void {
  const pinned = requiredModuleVersion(readFileSync(join(wrapperDir, "go.mod"), "utf8"), module);
  if (pinned !== `v${expected}`) {
    throw new Error(
      `${join(wrapperDir, "go.mod")} requires ${module} ${pinned} but the lockfile has ${npmPackage} ${expected}: ` +
        `set it to v${expected} and run \`go mod tidy\` there`,
    );
  }
}

function pulumiOnPath(version: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "pulumi");
    if (!dir || !existsSync(candidate)) continue;
    try {
      const reported = execFileSync(candidate, ["version"], { encoding: "utf8", timeout: 30_000 }).trim();
      if (reported === `v${version}`) return dir;
    } catch {
      // Not a working pulumi: keep looking.
    }
  }
  return undefined;
}

/**
 * The folder holding a `pulumi` binary at @pulumi/pulumi's version: one on PATH, else built with Go, with
 * Pulumi's YAML language host beside it as the release bundles it (the CLI runs a program file only through
 * a language host, looks for bundled ones next to itself, and the Node.js host is not served by the Go module
 * proxy). The YAML host keeps pulumi-yaml's own Pulumi pins: its code follows their API.
 */
export async function ensurePulumiCli(progress: Progress): Promise<string> {
  const { pulumi: version } = engineVersions();
  const onPath = pulumiOnPath(version);
  if (onPath) return onPath;
  const cliWrapper = join(ENGINES_DIR, "go", "pulumi-cli");
  const yamlWrapper = join(ENGINES_DIR, "go", "pulumi-language-yaml");
  checkPinned(cliWrapper, "github.com/pulumi/pulumi/pkg/v3", version, "@pulumi/pulumi");
  const yamlVersion = requiredModuleVersion(
    readFileSync(join(yamlWrapper, "go.mod"), "utf8"),
    "github.com/pulumi/pulumi-yaml",
  );
  const dir = join(cacheRoot(), `pulumi-cli-v${version}-yaml-${yamlVersion}`);
  await buildOnce(
    dir,
    `the Pulumi CLI v${version} and its YAML language host ${yamlVersion} (Go module proxy)`,
    async (staging) => {
      await requireProgram("go", "build the Pulumi CLI", "Go 1.25 or later", ["version"]);
      const logFile = join(staging, "build.log");
      const cliSrc = join(staging, "src", "pulumi-cli");
      cpSync(cliWrapper, cliSrc, { recursive: true });
      // The release build: tags and the version stamp of Pulumi's own goreleaser configuration.
      await runLogged(
        "go",
        [
          "build",
          "-tags",
          "osusergo,grpcnotrace",
          "-ldflags",
          `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${version}`,
          "-o",
          join(staging, "bin", "pulumi"),
          "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        ],
        { cwd: cliSrc, env: goEnv(), logFile },
      );
      const yamlSrc = join(staging, "src", "pulumi-language-yaml");
      cpSync(yamlWrapper, yamlSrc, { recursive: true });
      await runLogged(
        "go",
        [
          "build",
          "-o",
          join(staging, "bin", "pulumi-language-yaml"),
          "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml",
        ],
        { cwd: yamlSrc, env: goEnv(), logFile },
      );
    },
    progress,
  );
  return join(dir, "bin");
}
