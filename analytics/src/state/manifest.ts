import { z } from "zod";
import { Scd2Error } from "../errors";
import type { Storage } from "../storage/storage";

/** Everything the job keeps about its output lives under this prefix of the output storage. */
export const STATE_DIR = "_state";
export const MANIFEST_KEY = `${STATE_DIR}/manifest.json`;

const fileEntry = z.object({ key: z.string(), rows: z.number().int(), deleted: z.number().int() });

const tableState = z.object({
  topic: z.string(),
  primaryKey: z.array(z.string()),
  /** Source columns of the SCD2 table, decoded, in order. */
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  /** Source files already applied: key → etag. */
  processed: z.record(z.string(), z.string()),
  /** Closed versions (append-only, rewritten only when a late change reorders a key's history). */
  history: z.array(fileEntry),
  /** Current versions (rewritten by every run that changes the table). */
  current: fileEntry,
  /**
   * Per-key position of the last applied change (`_state/<table>/keys/...`): a base file and the key
   * updates of later runs, oldest first; a key's state is in the newest file that holds it.
   */
  keys: z.array(z.string()).min(1),
  /** Position of every applied change (`_state/<table>/applied/...`), to recognise re-deliveries. */
  applied: z.array(z.string()),
  /**
   * Reconciliation windows applied (`--reconcile`), WAL positions as decimal text: a full refresh, which
   * rebuilds from the source files alone, applies them again. Absent: none.
   */
  reconciled: z.array(z.object({ from: z.string(), to: z.string() })).optional(),
});

/**
 * What a committed run still has to do for a glob over the table folders to match the state: committed
 * with the state, done right after the commit (or by the next run), then dropped from the manifest.
 */
const publication = z.object({
  /** Table files uploaded to a pending key (see pendingKey), to be moved to the key the state names. */
  moves: z.array(z.object({ from: z.string(), to: z.string() })),
  /** Files the committed state no longer references. */
  deletes: z.array(z.string()),
});

const tables = z.record(z.string(), tableState);

/**
 * Version 2 added `publication`: an older job, which would ignore it and delete the pending files as
 * orphans, rejects a version 2 manifest instead. Version 3 made `keys` a list of files (a base and key
 * updates), which a version 2 job does not know: it rejects version 3.
 */
const manifestSchema = z.object({
  version: z.literal(3),
  tables,
  publication: publication.optional(),
});

/** Versions 1 and 2: one key state file; version 1 has nothing to publish. */
const earlierTables = z.record(z.string(), tableState.extend({ keys: z.string() }));
const manifestV1V2 = z
  .object({
    version: z.union([z.literal(1), z.literal(2)]),
    tables: earlierTables,
    publication: publication.optional(),
  })
  .transform((old): Manifest => ({
    version: 3,
    tables: Object.fromEntries(
      Object.entries(old.tables).map(([name, t]) => [name, { ...t, keys: [t.keys] }]),
    ),
    ...(old.publication ? { publication: old.publication } : {}),
  }));

export type FileEntry = z.infer<typeof fileEntry>;
export type TableState = z.infer<typeof tableState>;
export type Publication = z.infer<typeof publication>;
export type Manifest = z.infer<typeof manifestSchema>;

export const emptyManifest = (): Manifest => ({ version: 3, tables: {} });

/** Every object key a table's state references (output files and state files). */
export function referencedKeys(state: TableState): string[] {
  return [...state.history.map((f) => f.key), state.current.key, ...state.keys, ...state.applied];
}

/** Where a table file waits for its commit: under `_state/`, outside every table folder (and its glob). */
export function pendingKey(table: string, runId: string, key: string): string {
  return `${STATE_DIR}/${table}/pending/${runId}/${key}`;
}

/** The committed manifest; undefined when there is none (a new output, or one whose manifest was lost). */
export async function readManifest(storage: Storage): Promise<Manifest | undefined> {
  const text = await storage.readText(MANIFEST_KEY);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Scd2Error(`${storage.uri}/${MANIFEST_KEY} is not JSON: ${(error as Error).message}`);
  }
  const version =
    typeof json === "object" && json !== null ? (json as { version?: unknown }).version : undefined;
  const parsed = (version === 1 || version === 2 ? manifestV1V2 : manifestSchema).safeParse(json);
  if (!parsed.success) {
    // Name the first fields at fault, not zod's JSON dump of its issues.
    const issues = parsed.error.issues;
    const shown = issues
      .slice(0, 3)
      .map((i) => `${i.path.length > 0 ? i.path.join(".") : "the top level"}: ${i.message}`);
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
    throw new Scd2Error(
      `${storage.uri}/${MANIFEST_KEY} is not a valid manifest: ${shown.join("; ")}${more}; restore it (e.g. an earlier version of the object)`,
    );
  }
  return parsed.data;
}

/**
 * The commit point of a run: readers of the manifest see the old or the new state, never a mix. A file of
 * the state that a pending publication still has to move is read at the move's source until it is done.
 */
export async function writeManifest(storage: Storage, manifest: Manifest): Promise<void> {
  await storage.writeText(MANIFEST_KEY, `${JSON.stringify(manifest, null, 1)}\n`);
}
