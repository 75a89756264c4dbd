/**
 * Row values for the workload: realistic, unique where the schema wants it, and sometimes large
 * enough (random, incompressible text) that PostgreSQL stores them out of line in TOAST.
 */
import { randomBytes } from "node:crypto";

/** A small seeded PRNG (mulberry32): a run with the same seed picks the same operations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ~4 kB of base64 noise: incompressible, so the value is moved to the TOAST table. */
export function toastText(): string {
  return randomBytes(3000).toString("base64");
}

const COLORS = ["red", "green", "blue", "black", "white", "teal"];
const WORDS = ["lamp", "chair", "desk", "mug", "shelf", "rug", "clock", "vase", "stool", "frame"];

export class RowFactory {
  private counter = 0;

  constructor(
    private readonly random: () => number,
    /** Distinguishes this run's SKUs and e-mails from earlier runs on the same database. */
    private readonly tag: string,
  ) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  price(): string {
    return (this.int(100, 99_999) / 100).toFixed(2);
  }

  /** Product columns except the identity (and defaults): sku, name, description, price, attributes, in_stock, available_from. */
  product(): unknown[] {
    const n = ++this.counter;
    const word = this.pick(WORDS);
    return [
      `SKU-${this.tag}-${n}`,
      `${this.pick(COLORS)} ${word}`,
      this.random() < 0.5 ? toastText() : `A ${word} for every room.`,
      this.price(),
      JSON.stringify({
        color: this.pick(COLORS),
        tags: [word, this.pick(WORDS)],
        weight_kg: this.int(1, 400) / 10,
      }),
      this.random() < 0.8,
      this.random() < 0.3
        ? null
        : `2025-${String(this.int(1, 12)).padStart(2, "0")}-${String(this.int(1, 28)).padStart(2, "0")}`,
    ];
  }

  /** User columns except the identity (and defaults): email, name, birth_date, bio, preferences. */
  user(): unknown[] {
    const n = ++this.counter;
    return [
      `user-${this.tag}-${n}@example.com`,
      `User ${this.tag} ${n}`,
      this.random() < 0.2
        ? null
        : `19${this.int(50, 99)}-${String(this.int(1, 12)).padStart(2, "0")}-${String(this.int(1, 28)).padStart(2, "0")}`,
      this.random() < 0.5 ? toastText() : "Likes furniture.",
      JSON.stringify({ newsletter: this.random() < 0.5, theme: this.pick(["dark", "light"]) }),
    ];
  }
}

export const PRODUCT_INSERT =
  "INSERT INTO commerce.products (sku, name, description, price, attributes, in_stock, available_from) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
export const PRODUCT_REINSERT =
  "INSERT INTO commerce.products (id, sku, name, description, price, attributes, in_stock, available_from) VALUES ($8, $1, $2, $3, $4, $5, $6, $7)";
export const USER_INSERT =
  "INSERT INTO commerce.users (email, name, birth_date, bio, preferences) VALUES ($1, $2, $3, $4, $5) RETURNING id";
export const USER_REINSERT =
  "INSERT INTO commerce.users (id, email, name, birth_date, bio, preferences) VALUES ($6, $1, $2, $3, $4, $5)";
