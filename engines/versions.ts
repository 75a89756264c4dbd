/**
 * The versions of the real engines, each read from the one file that pins it: Kafka and Debezium from
 * engines/maven/pom.xml, the Pulumi CLI and the Kafka provider from the installed npm packages (the lockfile's).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

export const ENGINES_DIR = __dirname;
export const POM_FILE = join(ENGINES_DIR, "maven", "pom.xml");

const requireFromHere = createRequire(__filename);

function pomProperty(pom: string, name: string): string {
  const match = new RegExp(`<${name.replace(/\./g, "\\.")}>([^<]+)</`).exec(pom);
  if (!match?.[1]) throw new Error(`${POM_FILE} has no <${name}> property`);
  return match[1].trim();
}

function npmVersion(packageName: string): string {
  const manifest = JSON.parse(
    readFileSync(requireFromHere.resolve(`${packageName}/package.json`), "utf8"),
  ) as {
    version: string;
  };
  return manifest.version;
}

export interface EngineVersions {
  kafka: string;
  debezium: string;
  /** The Pulumi CLI: the version of @pulumi/pulumi, without a leading "v". */
  pulumi: string;
  /** The Kafka resource provider plugin: the version of @pulumi/kafka. */
  pulumiKafka: string;
}

export function engineVersions(): EngineVersions {
  const pom = readFileSync(POM_FILE, "utf8");
  return {
    kafka: pomProperty(pom, "kafka.version"),
    debezium: pomProperty(pom, "debezium.version"),
    pulumi: npmVersion("@pulumi/pulumi"),
    pulumiKafka: npmVersion("@pulumi/kafka"),
  };
}
