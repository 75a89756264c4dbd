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
  /** Per-key position of the last applied change (`_state/<table>/keys/...`). */
  keys: z.string(),
  /** Position of every applied change (`_state/<table>/applied/...`), to recognise re-deliveries. */
  applied: z.array(z.string()),
});

const manifestSchema = z.object({
  version: z.literal(1),
  tables: z.record(z.string(), tableState),
});

export type FileEntry = z.infer<typeof fileEntry>;
export type TableState = z.infer<typeof tableState>;
export type Manifest = z.infer<typeof manifestSchema>;

export const emptyManifest = (): Manifest => ({ version: 1, tables: {} });

/** Every object key a table's state references (output files and state files). */
export function referencedKeys(state: TableState): string[] {
  return [...state.history.map((f) => f.key), state.current.key, state.keys, ...state.applied];
}

export async function readManifest(storage: Storage): Promise<Manifest> {
  const text = await storage.readText(MANIFEST_KEY);
  if (text === undefined) return emptyManifest();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Scd2Error(`${storage.uri}/${MANIFEST_KEY} is not JSON: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new Scd2Error(`${storage.uri}/${MANIFEST_KEY} is not a valid manifest: ${parsed.error.message}`);
  }
  return parsed.data;
}

/** The commit point of a run: readers of the manifest see the old or the new state, never a mix. */
export async function writeManifest(storage: Storage, manifest: Manifest): Promise<void> {
  await storage.writeText(MANIFEST_KEY, `${JSON.stringify(manifest, null, 1)}\n`);
}
