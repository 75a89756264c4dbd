// NewTableSnapshots in the program under mocks, once per databaseSslMode the config accepts (the dev stack
// file with only that key changed, each run in its own process): its connection carries the stack's sslmode,
// and the CAs exactly when the mode verifies, as a secret and the same as the DDL resource's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CA_BUNDLE_ENV } from "../../infra/database-tls";
import { runMockStack, type MockStackRun } from "../delivery/mock-stacks";
import { REGION, ROOT, SECRET_VALUES, isSecret, readStackFile, reveal } from "./harness";

const CA_FILE = join(ROOT, "tests/fixtures/tls/test-ca.pem");
// The child processes inherit it: the verifying modes read the CAs from this file, not AWS's trust store.
process.env[CA_BUNDLE_ENV] = CA_FILE;

const MODES = ["require", "verify-ca", "verify-full"] as const;
const runs = new Map<string, MockStackRun>();

beforeAll(async () => {
  for (const mode of MODES) {
    runs.set(
      mode,
      await runMockStack("dev", { ...readStackFile("dev"), "cdc-pipeline:databaseSslMode": mode }),
    );
  }
}, 180_000);

function connectionOf(run: MockStackRun, type: string, name: string): unknown {
  const resource = run.resources.find((r) => r.type === type && r.name === name);
  if (!resource) throw new Error(`no ${type} ${name}`);
  expect(isSecret(resource.inputs.connection)).toBe(true);
  return reveal(resource.inputs.connection);
}

describe("NewTableSnapshots' connection per databaseSslMode", () => {
  it.each<[(typeof MODES)[number], boolean]>([
    ["require", false],
    ["verify-ca", true],
    ["verify-full", true],
  ])("%s: with the CAs %s", (mode, withCas) => {
    const run = runs.get(mode)!;
    const connection = connectionOf(
      run,
      "pulumi-nodejs:dynamic/signals:NewTableSnapshots",
      "new-table-snapshots",
    );
    expect(connection).toEqual({
      host: `cdc-pipeline-dev.abc.${REGION}.rds.amazonaws.com`,
      port: 5432,
      database: "app",
      user: "cdc_admin",
      password: SECRET_VALUES.masterPassword,
      sslMode: mode,
      ...(withCas ? { caBundle: readFileSync(CA_FILE, "utf8") } : {}),
    });
    expect(connection).toEqual(
      connectionOf(run, "pulumi-nodejs:dynamic/cdc:SqlStatements", "cdc-objects-ddl"),
    );
  });
});
