/**
 * The source database connection input that SqlStatements and NewTableSnapshots take: one check for both,
 * and both providers still work once serialized (as `pulumi up` stores them), the check with them.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { connectionProblem, type DatabaseConnection } from "../../../connectors/database/connection";
import {
  newTableSnapshotsProvider,
  type NewTableSnapshotsInputs,
} from "../../../connectors/signals/resource";
import { sqlStatementsProvider, type SqlStatementsInputs } from "../../../infra/sql-statements";
import { loadSerialized } from "../../common/serialized";

const connection: DatabaseConnection = {
  host: "db.internal",
  port: 5432,
  database: "app",
  user: "cdc_admin",
  password: "secret",
  sslMode: "require",
};
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
  const noCas = { ...connection, sslMode: "verify-full" as const };
  const reason = "sslMode verify-full needs caBundle, the CAs to verify the server against";

  it("SqlStatements checks the connection in its preview", async () => {
    const provider = loadSerialized<Required<typeof sqlStatementsProvider>>(
      (await pulumi.runtime.serializeFunction(() => sqlStatementsProvider)).text,
    );
    const inputs = (c: DatabaseConnection): SqlStatementsInputs => ({
      connection: c,
      statements: ["SELECT 1"],
    });
    const olds = {} as SqlStatementsInputs;
    expect((await provider.check(olds, inputs(connection))).failures).toEqual([]);
    expect((await provider.check(olds, inputs(unknown))).failures).toEqual([]);
    expect((await provider.check(olds, inputs(noCas))).failures).toEqual([
      { property: "connection", reason },
    ]);
  });

  it("NewTableSnapshots checks the connection in its preview", async () => {
    const provider = loadSerialized<Required<typeof newTableSnapshotsProvider>>(
      (await pulumi.runtime.serializeFunction(() => newTableSnapshotsProvider)).text,
    );
    const inputs = (c: DatabaseConnection): NewTableSnapshotsInputs => ({
      connection: c,
      signalTable: "commerce.cdc_signal",
      tables: ["commerce.users"],
    });
    const olds = {} as NewTableSnapshotsInputs;
    expect((await provider.check(olds, inputs(connection))).failures).toEqual([]);
    expect((await provider.check(olds, inputs(unknown))).failures).toEqual([]);
    expect((await provider.check(olds, inputs(noCas))).failures).toEqual([
      { property: "connection", reason },
    ]);
  });
});
