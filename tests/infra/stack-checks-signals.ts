// Stack checks for the day-two signals: NewTableSnapshots, which asks the source connector for an
// incremental snapshot of the tables a `pulumi up` adds, after that connector's update.
import { expect, it } from "vitest";
import { isSecret, reveal } from "./harness";
import { adminConnection, type StackContext } from "./stack-scenario";

const NEW_TABLE_SNAPSHOTS = "pulumi-nodejs:dynamic/signals:NewTableSnapshots";

export function signalChecks({ s, run }: StackContext): void {
  if (!s.endpoints || !s.features.connectors) return;

  it("requests snapshots of added tables through the signalling table, as the DDL resource connects", () => {
    const request = run().one(NEW_TABLE_SNAPSHOTS, "new-table-snapshots");
    expect(request.parentType).toBeUndefined();
    expect(request.inputs.signalTable).toBe("commerce.cdc_signal");
    // The list the source connector's table.include.list and the publication are built from.
    expect(request.inputs.tables).toEqual(["commerce.products", "commerce.users"]);
    // The master user's connection, sslmode and CAs as the DDL resource gets them, the password secret.
    expect(isSecret(request.inputs.connection)).toBe(true);
    expect(reveal(request.inputs.connection)).toEqual(adminConnection(s));
    const ddl = run().one("pulumi-nodejs:dynamic/cdc:SqlStatements", "cdc-objects-ddl");
    expect(reveal(request.inputs.connection)).toEqual(reveal(ddl.inputs.connection));
  });

  it("is registered after the source connector, so its request reaches a task on the new table list", () => {
    const request = run().one(NEW_TABLE_SNAPSHOTS, "new-table-snapshots");
    const source = run().one("pulumi-nodejs:dynamic/connect:KafkaConnector", "connectors-source");
    const sink = run().one("pulumi-nodejs:dynamic/connect:KafkaConnector", "connectors-sink");
    expect(request.dependencies).toContain(source.urn);
    expect(request.dependencies).not.toContain(sink.urn);
    // Nothing to clean up on delete: no deletedWith, no protection.
    expect([request.deletedWith, request.protect]).toEqual(["", false]);
  });
}
