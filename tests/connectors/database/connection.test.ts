/**
 * The source database connection input that SqlStatements and NewTableSnapshots take: one check for both,
 * and both providers still work once serialized (as `pulumi up` stores them), the check with them.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { connectionProblem, type DatabaseConnection } from "../../../connectors/database/connection";
import { newTableSnapshotsProvider } from "../../../connectors/signals/resource";
import { sqlStatementsProvider } from "../../../infra/sql-statements";
import { CHECKED_CONNECTION } from "../../common/database-connection";
import { loadSerialized } from "../../common/serialized";

const connection = CHECKED_CONNECTION;
const unknown = pulumi.runtime.unknownValue as unknown as DatabaseConnection;

describe("connectionProblem", () => {
  it.each<[string, DatabaseConnection | string | undefined, string | undefined]>([
    ["require", connection, undefined],
    ["verify-ca with its CAs", { ...connection, sslMode: "verify-ca", caBundle: "PEM" }, undefined],
    ["verify-full with its CAs", { ...connection, sslMode: "verify-full", caBundle: "PEM" }, undefined],
    ["disable", { ...connection, sslMode: "disable" }, undefined],
    // A preview before the database exists: not known yet, nothing to say.
    ["unknown", unknown, undefined],
    ["missing", undefined, "must name the host to connect to"],
    ["no host", { ...connection, host: "" }, "must name the host to connect to"],
    ["a string", "db.internal", "must name the host to connect to"],
    [
      "an sslmode libpq has but the stack does not",
      { ...connection, sslMode: "prefer" as DatabaseConnection["sslMode"] },
      'sslMode must be one of disable, require, verify-ca, verify-full (got "prefer")',
    ],
    [
      "verify-ca without CAs",
      { ...connection, sslMode: "verify-ca" },
      "sslMode verify-ca needs caBundle, the CAs to verify the server against",
    ],
    [
      "verify-full without CAs",
      { ...connection, sslMode: "verify-full" },
      "sslMode verify-full needs caBundle, the CAs to verify the server against",
    ],
  ])("%s", (_name, input, problem) => {
    expect(connectionProblem(input)).toBe(problem);
  });
});

describe("the providers that take it, serialized", () => {
  /** What both providers have: a check of their inputs. */
  interface Checked {
    check: (olds: never, news: never) => Promise<{ failures?: pulumi.dynamic.CheckFailure[] }>;
  }
  const noCas = { ...connection, sslMode: "verify-full" as const };
  const reason = "sslMode verify-full needs caBundle, the CAs to verify the server against";

  it.each<[string, Checked, Record<string, unknown>]>([
    ["SqlStatements", sqlStatementsProvider as Checked, { statements: ["SELECT 1"] }],
    [
      "NewTableSnapshots",
      newTableSnapshotsProvider as Checked,
      { signalTable: "commerce.cdc_signal", tables: ["commerce.users"] },
    ],
  ])("%s checks the connection in its preview", async (_name, original, rest) => {
    const provider = loadSerialized<Checked>((await pulumi.runtime.serializeFunction(() => original)).text);
    const failures = async (c: DatabaseConnection) =>
      (await provider.check({} as never, { connection: c, ...rest } as never)).failures;
    expect(await failures(connection)).toEqual([]);
    expect(await failures(unknown)).toEqual([]);
    expect(await failures(noCas)).toEqual([{ property: "connection", reason }]);
  });
});
