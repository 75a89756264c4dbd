// What the job changes in a Glue table after a run (analytics/src/catalog/plan.ts): columns the files
// gained are added in the files' order, nothing is removed or retyped, conflicts name the column.
import { describe, expect, it } from "vitest";
import { planColumns } from "../../analytics/src/catalog/plan";

const g = (spec: string) =>
  spec.split(";").map((c) => {
    const at = c.trim().indexOf(" ");
    return { name: c.trim().slice(0, at), glueType: c.trim().slice(at + 1) };
  });
const f = (...columns: [string, string][]) => columns.map(([name, type]) => ({ name, type }));

describe("planColumns", () => {
  it.each([
    {
      case: "in step: nothing to add",
      glue: "id bigint; name string",
      files: f(["id", "BIGINT"], ["name", "VARCHAR"]),
      columns: "id bigint; name string",
      added: [],
    },
    {
      case: "a column the files gained, put where the files have it",
      glue: "id bigint; effective_from timestamp",
      files: f(["id", "BIGINT"], ["colour", "VARCHAR"], ["effective_from", "TIMESTAMP WITH TIME ZONE"]),
      columns: "id bigint; colour string; effective_from timestamp",
      added: ["colour"],
    },
    {
      case: "names lower-cased as Glue stores them, decimals with their precision",
      glue: "id bigint",
      files: f(["id", "BIGINT"], ["Price", "DECIMAL(12,2)"]),
      columns: "id bigint; price decimal(12,2)",
      added: ["price"],
    },
    {
      case: "a column only Glue has is kept, after the files' columns",
      glue: "id bigint; legacy string",
      files: f(["id", "BIGINT"], ["at", "DATE"]),
      columns: "id bigint; at date; legacy string",
      added: ["at"],
    },
    {
      case: "a column only Glue has, nothing added: left as it is",
      glue: "legacy string; id bigint",
      files: f(["id", "BIGINT"]),
      columns: "legacy string; id bigint",
      added: [],
    },
    {
      case: "a type spelled differently by hand is the same type",
      glue: "price DECIMAL(12, 2)",
      files: f(["price", "DECIMAL(12,2)"], ["n", "INTEGER"]),
      columns: "price DECIMAL(12, 2); n int",
      added: ["n"],
    },
  ])("$case", ({ glue, files, columns, added }) => {
    expect(planColumns("commerce.t", g(glue), files)).toEqual({ columns: g(columns), added, problems: [] });
  });

  it("never retypes a column: the conflict names the column and both types, the others are added", () => {
    const plan = planColumns(
      "commerce.products",
      g("id bigint; price decimal(12,2)"),
      f(["id", "BIGINT"], ["price", "DECIMAL(14,2)"], ["colour", "VARCHAR"]),
    );
    expect(plan).toEqual({
      columns: g("id bigint; price decimal(12,2); colour string"),
      added: ["colour"],
      problems: [
        "commerce.products.price: the files hold decimal(14,2) (DuckDB DECIMAL(14,2)) but Glue declares decimal(12,2); the job never retypes a Glue column (files written before hold the old type)",
      ],
    });
  });

  it("names a column whose type has no Glue type and adds the others", () => {
    const plan = planColumns(
      "commerce.t",
      g("id bigint"),
      f(["id", "BIGINT"], ["at", "TIME"], ["n", "INTEGER"]),
    );
    expect(plan).toEqual({
      columns: g("id bigint; n int"),
      added: ["n"],
      problems: [
        "commerce.t.at: DuckDB type TIME has no Glue type (common/catalog.ts); the column is not added to Glue",
      ],
    });
  });

  it("names two file columns Glue would fold into one", () => {
    const plan = planColumns(
      "commerce.t",
      g("id bigint"),
      f(["id", "BIGINT"], ["Note", "VARCHAR"], ["note", "VARCHAR"]),
    );
    expect(plan.problems).toEqual([
      "commerce.t.note: Glue lowercases column names, and the files also have Note",
    ]);
    expect(plan.added).toEqual(["note"]);
  });
});
