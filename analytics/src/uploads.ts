import type { PendingFile } from "./scd2/files";
import type { ResolvedTable } from "./scd2/table-run";
import type { RunLock } from "./state/lock";
import type { Publication } from "./state/manifest";
import { pendingKey } from "./state/manifest";
import type { Storage } from "./storage/storage";

/**
 * A table's new files, uploaded one at a time in the order the run writes them, while it goes on writing
 * the next (a full build's history uploads while its current versions and state are written): state files
 * to their keys, table files to pending keys, so a glob over the table folder does not see them before
 * the commit. A run that fails leaves what it uploaded where the next run's output check removes it, as
 * files of an interrupted run.
 */
export class TableUploads {
  private readonly moves: Publication["moves"] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly output: Storage,
    private readonly spec: Pick<ResolvedTable, "table" | "dir">,
    private readonly runId: string,
    private readonly lock: RunLock,
  ) {}

  /** Starts uploading `files` after those already started; after a failed upload, none is started. */
  add(files: readonly PendingFile[]): void {
    for (const file of files) {
      const tableFile = file.key.startsWith(`${this.spec.dir}/`);
      const key = tableFile ? pendingKey(this.spec.table, this.runId, file.key) : file.key;
      if (tableFile) this.moves.push({ from: key, to: file.key });
      this.chain = this.chain.then(async () => {
        await this.lock.confirm();
        await this.output.upload(file.local, key);
      });
    }
    // The failure is thrown by done(); until then it must not count as unhandled.
    this.chain.catch(() => undefined);
  }

  /** Waits for every upload (throws the first failure); returns the moves that publish the table files. */
  async done(): Promise<Publication["moves"]> {
    await this.chain;
    return this.moves;
  }
}
