// The Pulumi program (infra/index.ts and everything it imports by path, including the serialized
// dynamic providers) is loaded from the repository root: every package it reaches must be declared in
// the root package.json's dependencies, not found only because npm hoisted a workspace's copy there.
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");

/** Package names imported (statically or by require) from the program's module graph, and the file. */
function programPackages(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    for (const match of text.matchAll(/require\("([^"]+)"\)/g)) specifiers.push(match[1]!);
    for (const specifier of specifiers) {
      if (specifier.startsWith(".")) {
        const base = resolve(dirname(file), specifier);
        const target = [`${base}.ts`, join(base, "index.ts")].find((p) => existsSync(p));
        if (target === undefined) throw new Error(`${file}: cannot resolve ${specifier}`);
        pending.push(target);
        continue;
      }
      if (specifier.startsWith("node:") || builtinModules.includes(specifier)) continue;
      const name = specifier.startsWith("@")
        ? specifier.split("/").slice(0, 2).join("/")
        : specifier.split("/")[0]!;
      if (!packages.has(name)) packages.set(name, file.slice(root.length + 1));
    }
  }
  return packages;
}

describe("the Pulumi program's packages", () => {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  const packages = programPackages(join(root, "infra/index.ts"));

  it("reaches the packages the stack is built from (the walk follows the program's imports)", () => {
    expect([...packages.keys()]).toEqual(
      expect.arrayContaining(["@pulumi/pulumi", "@pulumi/aws", "axios", "pg", "zod"]),
    );
  });

  it("finds every one of them in the root package.json's dependencies", () => {
    const undeclared = [...packages]
      .filter(([name]) => manifest.dependencies[name] === undefined)
      .map(([name, file]) => `${name} (imported by ${file})`);
    expect(undeclared).toEqual([]);
  });
});
