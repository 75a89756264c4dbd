/**
 * A workload against commerce.products and commerce.users that exercises every case of the CDC
 * contract: inserts, updates that leave the TOASTed column alone and updates that change it,
 * deletes, re-inserts of a deleted id, a primary-key change, multi-statement transactions (a row
 * changed twice in one transaction), and interleaved transactions on two connections (the first
 * to change commits last).
 */
import pg from "pg";
import {
  PRODUCT_INSERT,
  PRODUCT_REINSERT,
  RowFactory,
  seededRandom,
  toastText,
  USER_INSERT,
  USER_REINSERT,
} from "./rows";

export type CapturedTable = "commerce.products" | "commerce.users";
export interface ChangeCounts {
  inserts: number;
  updates: number;
  deletes: number;
}
export interface WorkloadStats {
  transactions: number;
  /** Committed transactions by operation name. */
  operations: Record<string, number>;
  /** Committed row changes by table: what the connector must capture (one event each). */
  changes: Record<CapturedTable, ChangeCounts>;
}

export interface WorkloadRunOptions {
  durationMs: number;
  /** Transactions started per second. */
  rate: number;
  signal?: AbortSignal;
  /** Called about once a second with the elapsed fraction (0..1). */
  onProgress?: (done: number, stats: WorkloadStats) => void;
}

/** Ids of one table: live, deleted (for re-inserts), and busy (in a running transaction). */
class Keys {
  readonly live = new Set<number>();
  readonly deleted: number[] = [];
  private readonly busy = new Set<number>();

  constructor(private readonly random: () => number) {}

  take(): number | undefined {
    const free = [...this.live].filter((id) => !this.busy.has(id));
    const id = free[Math.floor(this.random() * free.length)];
    if (id !== undefined) this.busy.add(id);
    return id;
  }

  takeDeleted(): number | undefined {
    const index = this.deleted.findIndex((id) => !this.busy.has(id));
    if (index < 0) return undefined;
    const [id] = this.deleted.splice(index, 1) as [number];
    this.busy.add(id);
    return id;
  }

  release(...ids: (number | undefined)[]): void {
    for (const id of ids) if (id !== undefined) this.busy.delete(id);
  }
}

/** What one transaction did; counted, and its new ids made visible to others, only once it commits. */
class Pending {
  readonly changes: [CapturedTable, keyof ChangeCounts][] = [];
  readonly onCommit: (() => void)[] = [];

  /** Runs a statement that must change exactly one row, and records the change. */
  async change(
    client: pg.PoolClient,
    table: CapturedTable,
    kind: keyof ChangeCounts,
    sql: string,
    params: unknown[],
  ): Promise<number> {
    const result = await client.query<{ id?: string }>(sql, params);
    if (result.rowCount !== 1)
      throw new Error(`expected one ${table} row changed, got ${result.rowCount}: ${sql}`);
    this.changes.push([table, kind]);
    return Number(result.rows[0]?.id);
  }
}
type Operation = (client: pg.PoolClient, pending: Pending) => Promise<void>;

const UPDATE_PRODUCT_PRICE = `UPDATE commerce.products SET price = $2, in_stock = NOT in_stock,
  updated_at = now() AT TIME ZONE 'utc' WHERE id = $1`;
const UPDATE_PRODUCT_DESCRIPTION = `UPDATE commerce.products SET description = $2,
  updated_at = now() AT TIME ZONE 'utc' WHERE id = $1`;
const UPDATE_USER_LOGIN = `UPDATE commerce.users SET last_login = now() AT TIME ZONE 'utc' WHERE id = $1`;

export class Workload {
  private readonly random: () => number;
  private readonly rows: RowFactory;
  private readonly products: Keys;
  private readonly users: Keys;
  private readonly counters: WorkloadStats = {
    transactions: 0,
    operations: {},
    changes: {
      "commerce.products": { inserts: 0, updates: 0, deletes: 0 },
      "commerce.users": { inserts: 0, updates: 0, deletes: 0 },
    },
  };
  private operations: [string, number, Operation][];

  private constructor(
    private readonly pool: pg.Pool,
    private readonly connections: number,
    seed: number,
    exclude: readonly string[],
  ) {
    this.random = seededRandom(seed);
    this.rows = new RowFactory(this.random, `${seed.toString(36)}${Date.now().toString(36)}`);
    this.products = new Keys(this.random);
    this.users = new Keys(this.random);
    this.operations = [
      ["insert-products", 3, (c, p) => this.insertProducts(c, p, this.rows.int(1, 3)).then(() => undefined)],
      ["insert-user", 2, (c, p) => this.insertUser(c, p)],
      [
        "update-price-toast-untouched",
        4,
        (c, p) => this.withRow(this.products, (id) => this.updatePrice(c, p, id)),
      ],
      [
        "update-description",
        1,
        (c, p) => this.withRow(this.products, (id) => this.updateDescription(c, p, id)),
      ],
      [
        "update-login-toast-untouched",
        3,
        (c, p) => this.withRow(this.users, (id) => this.updateLogin(c, p, id)),
      ],
      [
        "delete-product",
        1,
        (c, p) => this.withRow(this.products, (id) => this.delete(c, p, "commerce.products", id)),
      ],
      ["delete-user", 1, (c, p) => this.withRow(this.users, (id) => this.delete(c, p, "commerce.users", id))],
      ["reinsert-product", 1, (c, p) => this.reinsert(c, p, "commerce.products")],
      ["reinsert-user", 0.5, (c, p) => this.reinsert(c, p, "commerce.users")],
      ["change-product-key", 0.5, (c, p) => this.withRow(this.products, (id) => this.changeKey(c, p, id))],
      ["multi-statement", 1, (c, p) => this.multiStatement(c, p)],
      ["interleaved", 1, (c, p) => this.interleaved(c, p)],
    ];
    const unknown = exclude.filter((name) => !this.operations.some(([op]) => op === name));
    if (unknown.length > 0) throw new Error(`unknown workload operations: ${unknown.join(", ")}`);
    this.operations = this.operations.filter(([name]) => !exclude.includes(name));
  }

  /** Connects and learns the ids already in the tables (a reused database). */
  static async open(
    connectionString: string,
    options: { connections?: number; seed?: number; exclude?: readonly string[] } = {},
  ) {
    const connections = options.connections ?? 4;
    // One extra connection: the interleaved operation holds two at once.
    const pool = new pg.Pool({ connectionString, max: connections + 1 });
    // An idle pooled connection the server closed (shutdown) must not crash the process; queries still fail loudly.
    pool.on("error", () => undefined);
    let workload: Workload;
    try {
      workload = new Workload(
        pool,
        connections,
        options.seed ?? Date.now() % 1_000_000,
        options.exclude ?? [],
      );
    } catch (error) {
      await pool.end();
      throw error;
    }
    for (const [table, keys] of [
      ["commerce.products", workload.products],
      ["commerce.users", workload.users],
    ] as const) {
      const { rows } = await pool.query<{ id: string }>(`SELECT id FROM ${table} ORDER BY id`);
      for (const row of rows) keys.live.add(Number(row.id));
    }
    return workload;
  }

  stats(): WorkloadStats {
    return structuredClone(this.counters);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Inserts rows in one transaction (done before capture starts, they form the initial snapshot). */
  async seed(products: number, users: number): Promise<void> {
    await this.transaction("seed", async (client, pending) => {
      await this.insertProducts(client, pending, products);
      for (let i = 0; i < users; i++) await this.insertUser(client, pending);
    });
  }

  /** Runs random operations at `rate` transactions per second for `durationMs`. */
  async run(options: WorkloadRunOptions): Promise<void> {
    const started = Date.now();
    const end = started + options.durationMs;
    const interval = 1000 / options.rate;
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let next = started;
    let lastProgress = 0;
    while (Date.now() < end && !options.signal?.aborted && failure === undefined) {
      if (inFlight.size < this.connections) {
        const [name, , operation] = this.chooseOperation();
        const running: Promise<void> = this.transaction(name, operation)
          .catch((error: unknown) => void (failure ??= error))
          .finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
      next += interval;
      if (next < Date.now() - 1000) next = Date.now(); // fell behind: do not burst to catch up
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (Date.now() - lastProgress >= 1000) {
        lastProgress = Date.now();
        options.onProgress?.(Math.min(1, (Date.now() - started) / options.durationMs), this.stats());
      }
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    options.onProgress?.(1, this.stats());
  }

  private chooseOperation(): [string, number, Operation] {
    const total = this.operations.reduce((sum, [, weight]) => sum + weight, 0);
    let point = this.random() * total;
    for (const op of this.operations) {
      point -= op[1];
      if (point < 0) return op;
    }
    return this.operations[0]!;
  }

  /** Runs `operation` in one transaction on a pooled connection; counts its changes after COMMIT. */
  private async transaction(name: string, operation: Operation): Promise<void> {
    const client = await this.pool.connect();
    const pending = new Pending();
    try {
      await client.query("BEGIN");
      await operation(client, pending);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw new Error(`workload operation ${name} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      client.release();
    }
    for (const callback of pending.onCommit) callback();
    if (pending.changes.length === 0) return;
    this.counters.transactions++;
    this.counters.operations[name] = (this.counters.operations[name] ?? 0) + 1;
    for (const [table, kind] of pending.changes) this.counters.changes[table][kind]++;
  }

  /** Runs `body` on a random live row of `keys` (nothing when there is none), then frees the row. */
  private async withRow(keys: Keys, body: (id: number) => Promise<void>): Promise<void> {
    const id = keys.take();
    if (id === undefined) return;
    try {
      await body(id);
    } finally {
      keys.release(id);
    }
  }

  private async insertProducts(client: pg.PoolClient, pending: Pending, count: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(
        await pending.change(client, "commerce.products", "inserts", PRODUCT_INSERT, this.rows.product()),
      );
    }
    pending.onCommit.push(() => ids.forEach((id) => this.products.live.add(id)));
    return ids;
  }

  private async insertUser(client: pg.PoolClient, pending: Pending): Promise<void> {
    const id = await pending.change(client, "commerce.users", "inserts", USER_INSERT, this.rows.user());
    pending.onCommit.push(() => this.users.live.add(id));
  }

  private async updatePrice(client: pg.PoolClient, pending: Pending, id: number): Promise<void> {
    await pending.change(client, "commerce.products", "updates", UPDATE_PRODUCT_PRICE, [
      id,
      this.rows.price(),
    ]);
  }

  private async updateDescription(client: pg.PoolClient, pending: Pending, id: number): Promise<void> {
    await pending.change(client, "commerce.products", "updates", UPDATE_PRODUCT_DESCRIPTION, [
      id,
      toastText(),
    ]);
  }

  private async updateLogin(client: pg.PoolClient, pending: Pending, id: number): Promise<void> {
    await pending.change(client, "commerce.users", "updates", UPDATE_USER_LOGIN, [id]);
  }

  private async delete(
    client: pg.PoolClient,
    pending: Pending,
    table: CapturedTable,
    id: number,
  ): Promise<void> {
    const keys = table === "commerce.products" ? this.products : this.users;
    await pending.change(client, table, "deletes", `DELETE FROM ${table} WHERE id = $1`, [id]);
    keys.live.delete(id);
    pending.onCommit.push(() => keys.deleted.push(id));
  }

  /** Inserts a new row under an id that was deleted earlier (a key that comes back). */
  private async reinsert(client: pg.PoolClient, pending: Pending, table: CapturedTable): Promise<void> {
    const [keys, sql, values] =
      table === "commerce.products"
        ? [this.products, PRODUCT_REINSERT, this.rows.product()]
        : [this.users, USER_REINSERT, this.rows.user()];
    const id = keys.takeDeleted();
    if (id === undefined) return;
    try {
      await pending.change(client, table, "inserts", sql, [...values, id]);
      pending.onCommit.push(() => keys.live.add(id));
    } finally {
      keys.release(id);
    }
  }

  /** A primary-key update: Debezium emits a delete of the old key and a create of the new one. */
  private async changeKey(client: pg.PoolClient, pending: Pending, id: number): Promise<void> {
    const newId = await pending.change(
      client,
      "commerce.products",
      "deletes",
      `UPDATE commerce.products SET id = nextval(pg_get_serial_sequence('commerce.products', 'id')),
         updated_at = now() AT TIME ZONE 'utc' WHERE id = $1 RETURNING id`,
      [id],
    );
    pending.changes.push(["commerce.products", "inserts"]);
    this.products.live.delete(id);
    pending.onCommit.push(() => this.products.live.add(newId));
  }

  /** Several statements in one transaction, one row changed twice: only the last state is visible. */
  private async multiStatement(client: pg.PoolClient, pending: Pending): Promise<void> {
    const [created] = await this.insertProducts(client, pending, 1);
    await this.updatePrice(client, pending, created!);
    await this.updateDescription(client, pending, created!);
    await this.withRow(this.products, async (id) => {
      await this.updatePrice(client, pending, id);
      await this.updatePrice(client, pending, id);
    });
    await this.insertUser(client, pending);
    await this.withRow(this.users, (id) => this.updateLogin(client, pending, id));
  }

  /**
   * T1 changes product A first; T2 changes product B and a user and commits; T1 changes A again and
   * commits last. T1's first change has the lower LSN but the later commit.
   */
  private async interleaved(first: pg.PoolClient, pending: Pending): Promise<void> {
    const a = this.products.take();
    const b = this.products.take();
    const u = this.users.take();
    try {
      if (a === undefined || b === undefined) return;
      await this.updatePrice(first, pending, a);
      await this.transaction("interleaved-second", async (second, secondPending) => {
        await this.updatePrice(second, secondPending, b);
        if (u !== undefined) await this.updateLogin(second, secondPending, u);
      });
      await this.updatePrice(first, pending, a);
    } finally {
      this.products.release(a, b);
      this.users.release(u);
    }
  }
}
