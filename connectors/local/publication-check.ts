/**
 * Before anything is read or written: does `publication.name` exist? With `publication.autocreate.mode=disabled`
 * (the only mode here) Debezium 3.6.1 creates none and fails without it ("Publication autocreation is disabled,
 * please create one and restart the connector."). PostgreSQL itself would accept START_REPLICATION and fail
 * only at the first change it decodes, after the snapshot was written.
 */
import type pg from "pg";

/** Throws, naming the publication, the database and the fix, when the publication does not exist. */
export async function checkPublication(
  client: pg.Client,
  publication: string,
  dbname: string,
): Promise<void> {
  const { rowCount } = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication]);
  if (rowCount === 0) {
    throw new Error(
      `publication "${publication}" (publication.name) does not exist in database "${dbname}": ` +
        "publication.autocreate.mode=disabled creates none, so create it for the captured tables " +
        "(CREATE PUBLICATION ... FOR TABLE ...) and start again",
    );
  }
}
