/**
 * An incremental snapshot with changes inside and between its chunk windows, made deterministic: a trigger on
 * the signalling table makes the "concurrent" changes in the transaction of the connector's own watermark
 * rows, so they sit at the same place relative to the windows in every run (real Debezium or the runtime).
 * `commerce.items` (ids 1-10) is snapshotted in chunks of 3; the largest key is read after the first open
 * watermark's transaction (its trigger's changes included) committed:
 *
 * - window 1 opens: 2 is updated, 3 deleted, 11 inserted (so the snapshot runs up to 11). The chunk is 1, 2, 4:
 *   reads of 1 and 4 at its close (2 is represented by its update, 3 is gone).
 * - window 1 closes: 4 is updated after its read: the update follows the read.
 * - window 2 (5, 6, 7): 5 and 1 (already read) are updated: reads of 6 and 7.
 * - window 3: 8 deleted, 10 updated, 0 inserted (below the chunks: never read): the chunk is 9, 10, 11;
 *   reads of 9 and 11.
 * - window 4 reads nothing past 11: the snapshot is done.
 */
import { executeSnapshotSignal, PIPELINE_DEFAULTS } from "../../../connectors/config";

export const ITEMS_TABLE = "commerce.items";
export const CHUNK_SIZE = 3;

/** Run as the admin, once: the table, the window counter and the trigger (SECURITY DEFINER: the connector's
 * role only inserts watermarks). */
export const ITEMS_DDL = [
  "CREATE TABLE commerce.items (id int PRIMARY KEY, label text NOT NULL, n int NOT NULL)",
  "CREATE TABLE commerce.window_count (n int NOT NULL)",
  `CREATE FUNCTION commerce.during_window() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE k int;
BEGIN
  IF NEW.type = 'snapshot-window-open' THEN
    UPDATE commerce.window_count SET n = n + 1 RETURNING n INTO k;
    IF k = 1 THEN
      UPDATE commerce.items SET n = n + 100 WHERE id = 2;
      DELETE FROM commerce.items WHERE id = 3;
      INSERT INTO commerce.items VALUES (11, 'item 11', 11);
    ELSIF k = 2 THEN
      UPDATE commerce.items SET n = n + 100 WHERE id = 5;
      UPDATE commerce.items SET n = n + 100 WHERE id = 1;
    ELSIF k = 3 THEN
      DELETE FROM commerce.items WHERE id = 8;
      UPDATE commerce.items SET n = n + 100 WHERE id = 10;
      INSERT INTO commerce.items VALUES (0, 'item 0', 0);
    END IF;
  ELSIF NEW.type = 'snapshot-window-close' AND (SELECT n FROM commerce.window_count) = 1 THEN
    UPDATE commerce.items SET n = n + 100 WHERE id = 4;
  END IF;
  RETURN NULL;
END $$`,
  `CREATE TRIGGER during_window AFTER INSERT ON ${PIPELINE_DEFAULTS.signalTable}
     FOR EACH ROW EXECUTE FUNCTION commerce.during_window()`,
];

/** Puts the table and the counter back to the start (before each capture's slot is created). */
export const ITEMS_RESET = [
  "DELETE FROM commerce.items",
  "INSERT INTO commerce.items SELECT i, 'item ' || i, i FROM generate_series(1, 10) i",
  "DELETE FROM commerce.window_count",
  "INSERT INTO commerce.window_count VALUES (0)",
];

/** The request, as the re-snapshot command inserts it. */
export function snapshotRequestSql(id: string): { text: string; values: string[] } {
  const { type, data } = executeSnapshotSignal([ITEMS_TABLE]);
  return {
    text: `INSERT INTO ${PIPELINE_DEFAULTS.signalTable} (id, type, data) VALUES ($1, $2, $3)`,
    values: [id, type, data],
  };
}

/** The records of the items topic, in order: `[__op, id, n]` (deletes carry the key only). */
export const EXPECTED_ITEMS: [string, number, number | null][] = [
  ["u", 2, 102],
  ["d", 3, null],
  ["c", 11, 11],
  ["r", 1, 1],
  ["r", 4, 4],
  ["u", 4, 104],
  ["u", 5, 105],
  ["u", 1, 101],
  ["r", 6, 6],
  ["r", 7, 7],
  ["d", 8, null],
  ["u", 10, 110],
  ["c", 0, 0],
  ["r", 9, 9],
  ["r", 11, 11],
];
