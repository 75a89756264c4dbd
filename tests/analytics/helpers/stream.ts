import type { Change, Values } from "./fixtures";
import { PLACEHOLDER_TEXT } from "./placeholder";

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SinkFile {
  partition: number;
  offset: number;
  changes: Change[];
}

/**
 * A Debezium-like change stream for `keys` products over two partitions (key % 2): a snapshot, then
 * transactions of one or two keys with one or two changes each (updates that sometimes change nothing,
 * TOAST placeholders, deletes, re-inserts), and re-deliveries of recent changes. Cut into sink files of
 * 1-4 records per partition.
 */
export function changeStream(seed: number, keys = 10, transactions = 40): SinkFile[] {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const partitions: Change[][] = [[], []];
  const live = new Map<number, Values>();
  const row = (id: number): Values => ({
    id,
    name: pick(["a", "b", "c"]),
    price: pick([1, 2]),
    created_at: 1704067200000000,
    updated_at: "2024-01-01T00:00:00.000000Z",
    released: 19723,
    description: `text-${Math.floor(rnd() * 1000)}`,
  });
  let lsn = 1000;
  let ts = Date.parse("2024-05-01T00:00:00Z");
  for (let id = 1; id <= keys / 2; id++) {
    const values = row(id);
    live.set(id, values);
    partitions[id % 2]?.push({ op: "r", lsn, ts, tx: 1, row: values });
  }
  for (let tx = 2; tx < transactions + 2; tx++) {
    ts += 1000;
    for (const id of new Set([1 + Math.floor(rnd() * keys), 1 + Math.floor(rnd() * keys)])) {
      const changes = rnd() < 0.3 ? 2 : 1;
      for (let i = 0; i < changes; i++) {
        lsn += 10;
        const current = live.get(id);
        let change: Change;
        if (current === undefined) {
          const values = row(id);
          live.set(id, values);
          change = { op: "c", lsn, ts, tx, row: values };
        } else if (rnd() < 0.2) {
          live.delete(id);
          change = { op: "d", lsn, ts, tx, row: { id } };
        } else {
          const values: Values = { ...current, name: pick(["a", "b", "c"]) };
          if (rnd() < 0.3) values.description = `text-${Math.floor(rnd() * 1000)}`;
          live.set(id, values);
          const sent = rnd() < 0.4 ? { ...values, description: PLACEHOLDER_TEXT } : values;
          change = { op: "u", lsn, ts, tx, row: sent };
        }
        partitions[id % 2]?.push(change);
      }
    }
    // A connector restart re-sends the last few changes of a partition.
    if (rnd() < 0.1) {
      const partition = partitions[Math.floor(rnd() * 2)] as Change[];
      partition.push(...partition.slice(-1 - Math.floor(rnd() * 3)));
    }
  }
  const files: SinkFile[] = [];
  partitions.forEach((changes, partition) => {
    for (let offset = 0; offset < changes.length;) {
      const size = 1 + Math.floor(rnd() * 4);
      files.push({ partition, offset, changes: changes.slice(offset, offset + size) });
      offset += size;
    }
  });
  return files;
}
