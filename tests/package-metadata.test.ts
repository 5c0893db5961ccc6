// What npm shows and installs for every published package (issue 14,
// point 1), checked from the sources; the packaging test checks the tarballs.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  publishedPackages,
  readJson,
  repoRoot,
  repositoryUrl,
  requiredPeers,
  rootPackage,
} from "./support/packages.js";
import { extractBlocks } from "./support/readme-code.js";

const rows = publishedPackages.map((p) => [p.json.name, p] as const);
const license = fs.readFileSync(path.join(repoRoot, "LICENSE"), "utf8");

describe("package.json of every published package", () => {
  it("covers the packages", () => {
    expect(publishedPackages.map((p) => p.json.name)).toEqual(
      expect.arrayContaining([
        "@heartline/client",
        "@heartline/protocol",
        "@heartline/redis",
        "@heartline/server",
        "@heartline/testing",
      ]),
    );
  });

  it.each(rows)(
    "%s links to the repository the root package.json names",
    (_name, { dir, json }) => {
      expect(repositoryUrl).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+$/);
      expect(json.repository).toEqual({ ...rootPackage.repository, directory: dir });
      expect(json.homepage).toBe(`${repositoryUrl}/tree/main/${dir}#readme`);
      expect(json.bugs).toEqual(rootPackage.bugs);
      expect(json.license).toBe("MIT");
      expect(json.engines).toEqual({ node: ">=20" });
    },
  );

  it.each(rows)(
    "%s ships the MIT LICENSE and builds before it is packed",
    (_name, { dir, json }) => {
      expect(fs.readFileSync(path.join(repoRoot, dir, "LICENSE"), "utf8")).toBe(license);
      expect(json.scripts?.prepack).toBe("pnpm run build");
      expect(json.scripts?.build).toBeDefined();
    },
  );

  it.each(rows)("%s declares ranges, not pins, for what it installs", (_name, { json }) => {
    for (const [dep, range] of Object.entries({
      ...json.dependencies,
      ...json.peerDependencies,
    })) {
      // workspace:* becomes the exact sibling version on publish (released together);
      // workspace:^ a caret range (a peer on a sibling: @heartline/redis's on the server).
      expect(range, dep).toMatch(/^(workspace:[*^]|\^\d+\.\d+\.\d+|>=\d+)$/);
    }
    // zod builds the protocol's exported schemas: one copy, the application's.
    if (json.dependencies?.["@heartline/protocol"] || json.name === "@heartline/protocol") {
      expect(json.peerDependencies?.zod).toBe("^4.0.0");
      expect(json.dependencies?.zod).toBeUndefined();
    }
  });
});

describe("package READMEs as npm shows them", () => {
  it.each(rows)("%s starts with an install line naming every required peer", (_name, p) => {
    const readme = fs.readFileSync(path.join(repoRoot, p.dir, "README.md"), "utf8");
    const firstBlock = /```(\w*)\n([^`]*)```/.exec(readme);
    expect(firstBlock?.[1]).toBe("sh");
    const words = firstBlock![2]!.trim().split(/\s+/);
    expect(words.slice(0, 2)).toEqual(["npm", "install"]);
    const installed = words.filter((w) => !w.startsWith("-")).slice(2);
    expect(installed[0]).toBe(p.json.name);
    expect(installed).toEqual(expect.arrayContaining(requiredPeers(p.json)));
    // A package the README's code imports must be installed by that line too
    // (pnpm does not let an application import its dependencies' dependencies).
    const imported = new Set<string>();
    for (const block of extractBlocks(`${p.dir}/README.md`, readme)) {
      for (const [, spec] of block.code.matchAll(/from "([^"]+)"/g)) {
        const name = spec!.startsWith("@") ? spec!.split("/").slice(0, 2).join("/") : spec!;
        if (name.startsWith("@heartline/") || name === "zod" || name.startsWith("zod/"))
          imported.add(name.replace(/^zod\/.*/, "zod"));
      }
    }
    // ...or by an install line of its own in the section that brings it in
    // (the server README's cluster example installs @heartline/redis there).
    const sectionInstalls = [...readme.matchAll(/```sh\n(npm install [^`]*)```/g)].flatMap((m) =>
      m[1]!
        .trim()
        .split(/\s+/)
        .slice(2)
        .filter((w) => !w.startsWith("-")),
    );
    expect([...installed, ...sectionInstalls]).toEqual(expect.arrayContaining([...imported]));
  });

  it.each(rows)("%s links only to shipped files or to the repository", (_name, p) => {
    const readme = fs.readFileSync(path.join(repoRoot, p.dir, "README.md"), "utf8");
    const shipped = [
      ...(p.json.files ?? []),
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
      "package.json",
    ];
    const bad: string[] = [];
    for (const [, target] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = target!.replace(/#.*$/, "");
      if (link === "") continue;
      if (link.startsWith(`${repositoryUrl}/`)) {
        const inRepo = /^\/(?:blob|tree)\/main\/(.+)$/.exec(link.slice(repositoryUrl.length));
        if (!inRepo || !fs.existsSync(path.join(repoRoot, inRepo[1]!)))
          bad.push(`${target}: no such file in the repository`);
      } else if (/^https?:\/\//.test(link)) {
        // another site
      } else {
        const first = path.posix.normalize(link).split("/")[0]!;
        if (link.startsWith("..") || !shipped.includes(first))
          bad.push(`${target}: relative, and not in the package's files`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe("the workspace's private packages", () => {
  // `pnpm -r pack` (the README's "Try it from local tarballs") packs every
  // workspace package that has a version; a private one has none, so only
  // the published packages become tarballs.
  it.each(
    ["bench", "tests", "examples/echo"].map(
      (dir) =>
        [
          dir,
          readJson<{ private?: boolean; version?: string }>(
            path.join(repoRoot, dir, "package.json"),
          ),
        ] as const,
    ),
  )("%s is private and has no version, so `pnpm -r pack` leaves it out", (_dir, json) => {
    expect(json.private).toBe(true);
    expect(json.version).toBeUndefined();
  });
});
