// Preloaded (`node --import tsx --import <this file>`) into a spawned cdc-scd2 to give it a small disk:
// statfs reports CDC_SCD2_TEST_FREE_BYTES free bytes on every file system (no small file system can be
// mounted here without root). Everything else about the file system is real.
import fsp from "node:fs/promises";

const free = Number(process.env.CDC_SCD2_TEST_FREE_BYTES);
if (!Number.isSafeInteger(free)) throw new Error("small-disk.ts needs CDC_SCD2_TEST_FREE_BYTES");
const statfs = fsp.statfs.bind(fsp);
Object.assign(fsp, {
  statfs: async (dir: string) => {
    const stats = await statfs(dir);
    return { ...stats, bsize: 1, bavail: free, bfree: free };
  },
});
