// The API reference (issue 14, point 5): `pnpm docs` writes it to docs/api/
// (gitignored); tests/api-docs.test.ts runs the same conversion without
// output and fails on any exported symbol without a doc comment.
// Entry points are every published package's `exports`, read through their
// "heartline-source" condition, so a new package or subpath is covered
// without an edit here.
import fs from "node:fs";
import path from "node:path";

const root = path.dirname(new URL(import.meta.url).pathname);
const rootPackage = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const repositoryUrl = String(rootPackage.repository?.url ?? rootPackage.repository)
  .replace(/^git\+/, "")
  .replace(/\.git$/, "");
const entryPoints = [];
const names = [];
for (const dir of fs.readdirSync(path.join(root, "packages")).sort()) {
  const file = path.join(root, "packages", dir, "package.json");
  if (!fs.existsSync(file)) continue;
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  if (pkg.private) continue;
  names.push(pkg.name);
  for (const target of Object.values(pkg.exports ?? {})) {
    const source = typeof target === "object" ? target["heartline-source"] : undefined;
    if (source) entryPoints.push(path.join("packages", dir, source));
  }
}

/** @type {Partial<import("typedoc").TypeDocOptions>} */
export default {
  entryPoints,
  tsconfig: "tsconfig.docs.json",
  out: "docs/api",
  name: "Heartline",
  readme: "none",
  excludePrivate: true,
  excludeInternal: true,
  // TypeDoc only asks for documentation in the packages named here.
  packagesRequiringDocumentation: names,
  // Every exported declaration needs a doc comment; members of documented
  // interfaces and classes are encouraged but not yet required.
  requiredToBeDocumented: ["Enum", "Variable", "Function", "Class", "Interface", "TypeAlias"],
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  treatValidationWarningsAsErrors: true,
  // Source links point at the repository the root package.json names, never
  // at whatever remote a clone has (CI's clone has a local path as origin).
  sourceLinkTemplate: `${repositoryUrl}/blob/{gitRevision}/{path}#L{line}`,
  gitRevision: "main",
  treatWarningsAsErrors: true,
};
