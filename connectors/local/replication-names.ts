/**
 * The replication slot and publication names of the source config: checked when the config is read, quoted
 * where they enter the replication protocol's START_REPLICATION command (which takes no bind parameters).
 */
import { quoteIdent, quoteLiteral } from "../database/sql";
import { formatLsn } from "./lsn";

/** PostgreSQL's rule for slot names, which Debezium's own check of `slot.name` applies too. */
const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/** Why `name` cannot name a replication slot, or undefined when it can. */
export function slotNameProblem(name: string): string | undefined {
  return SLOT_NAME.test(name)
    ? undefined
    : "a replication slot name is 1 to 63 lower-case letters (a-z), digits and underscores";
}

/**
 * Why `name` cannot name a publication, or undefined when it can. Any other text is a PostgreSQL
 * identifier once quoted (one longer than 63 bytes stands, as everywhere, for its first 63), and Debezium
 * checks nothing: so nothing else is refused.
 */
export function publicationNameProblem(name: string): string | undefined {
  if (name === "") return "a publication name cannot be empty";
  if (name.includes("\0")) return "a publication name cannot hold a NUL character";
  return undefined;
}

/**
 * START_REPLICATION with pgoutput from `fromLsn`. pgoutput reads `publication_names` as a comma-separated
 * list of identifiers, folding unquoted ones to lower case: the name goes in as one quoted identifier, inside
 * a quoted literal, so the publication is the one of exactly that name. (Debezium passes it bare: a name with
 * upper-case letters, a comma or a quote does not work there.)
 */
export function startReplicationCommand(slot: string, publication: string, fromLsn: bigint): string {
  const publications = quoteLiteral(quoteIdent(publication));
  return `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(fromLsn)} (proto_version '1', publication_names ${publications}, messages 'false')`;
}
