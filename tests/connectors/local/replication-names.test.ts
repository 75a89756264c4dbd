/**
 * The slot and publication names in START_REPLICATION: quoted, so a publication is streamed by its exact
 * name whatever it holds (a quote, a comma, upper-case letters), on a real PostgreSQL.
 */
import { describe, expect, it } from "vitest";
import type { UnwrappedRecord } from "../../../connectors/local";
import { startReplicationCommand } from "../../../connectors/local/replication-names";
import { captureSetup, runtimeFor, useHarness, waitFor } from "./harness";

describe("START_REPLICATION", () => {
  it.each([
    [
      "cdc_slot",
      "cdc_publication",
      0x16b3748n,
      `START_REPLICATION SLOT "cdc_slot" LOGICAL 0/16B3748 (proto_version '1', publication_names '"cdc_publication"', messages 'false')`,
    ],
    [
      "s",
      `Pub "q", 'x'`,
      0x1_00000000n,
      `START_REPLICATION SLOT "s" LOGICAL 1/0 (proto_version '1', publication_names '"Pub ""q"", ''x''"', messages 'false')`,
    ],
  ])("slot %s, publication %s from %s", (slot, publication, lsn, command) => {
    expect(startReplicationCommand(slot, publication, lsn)).toBe(command);
  });

  describe("on PostgreSQL", () => {
    const h = useHarness();

    it("streams the publication of exactly the configured name, not a lower-cased or split one", async () => {
      await h.db.query("CREATE TABLE public.named (id int PRIMARY KEY)");
      await h.db.query("CREATE TABLE public.decoy (id int PRIMARY KEY)");
      // A bare name would be folded to lower case (this publication) or split at the comma.
      await h.db.query("CREATE PUBLICATION pub FOR TABLE public.decoy");
      const name = `Pub "q", 'x'`;
      const setup = await captureSetup(h, ["public.named", "public.decoy"], {
        source: {
          "publication.name": name,
          "table.include.list": "public.named,public.decoy",
          "snapshot.mode": "no_data",
        },
      });
      await h.db.query(`CREATE PUBLICATION "Pub ""q"", 'x'" FOR TABLE public.named`);
      const seen: UnwrappedRecord[] = [];
      const runtime = await runtimeFor(setup, { onRecord: (r) => seen.push(r) });
      try {
        await h.db.query("INSERT INTO public.decoy VALUES (1)");
        await h.db.query("INSERT INTO public.named VALUES (2)");
        await waitFor(() => seen.length > 0);
        await h.db.query("INSERT INTO public.named VALUES (3)");
        await waitFor(() => seen.length > 1);
      } finally {
        await runtime.stop();
      }
      expect(seen.map((r) => [r.topic, (r.value as { id: number }).id])).toEqual([
        ["cdc.public.named", 2],
        ["cdc.public.named", 3],
      ]);
    });
  });
});
