// A module of its own, without zod: NewTableSnapshots' Pulumi provider is serialized with every module it
// reaches, whole, and the settings schemas of source.ts do not serialize.

/**
 * The signal text Debezium reads from the signalling table to start an incremental snapshot of
 * `tables` (`schema.table` each): the row's `type` and `data` columns.
 */
export function executeSnapshotSignal(tables: readonly string[]): { type: string; data: string } {
  return {
    type: "execute-snapshot",
    data: JSON.stringify({ "data-collections": tables, type: "incremental" }),
  };
}
