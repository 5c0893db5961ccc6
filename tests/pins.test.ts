// The pins the consumer projects install (support/pins.ts, issue 20): the
// closure computed from a lockfile, the overrides written for npm and pnpm
// (parent-scoped where a name is locked at several versions), and the drift
// check that fails naming the package. The real lockfile's closure is the
// packaging test's; here small lockfiles make each rule visible.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  computePins,
  driftFromLock,
  installedPackages,
  type Lockfile,
  npmOverrides,
  pnpmOverrides,
  readLockfile,
} from "./support/pins.js";

const pkg = (name: string, extra: object = {}) => ({
  dir: `packages/${name}`,
  json: { name: `@x/${name}`, version: "0.1.0", ...extra },
});

// @x/a depends on lib (1.0.0) and peer p; p depends on lib 2.0.0 (via mid).
const lock: Lockfile = {
  importers: {
    ".": { devDependencies: { "@types/node": { specifier: "^20", version: "20.1.0" } } },
    "packages/a": {
      dependencies: {
        "@x/b": { specifier: "workspace:*", version: "link:../b" },
        lib: { specifier: "^1.0.0", version: "1.0.0" },
      },
      devDependencies: { p: { specifier: "3.0.0", version: "3.0.0(opt@1.0.0)" } },
    },
    "packages/b": {},
  },
  snapshots: {
    "@types/node@20.1.0": { dependencies: { "undici-types": "6.0.0" } },
    "undici-types@6.0.0": {},
    "lib@1.0.0": {},
    "lib@2.0.0": {},
    "p@3.0.0(opt@1.0.0)": {
      dependencies: { mid: "1.5.0" },
      optionalDependencies: { opt: "1.0.0" },
    },
    "mid@1.5.0": { dependencies: { lib: "2.0.0" } },
    "opt@1.0.0": {},
  },
};
const packages = [
  pkg("a", {
    dependencies: { "@x/b": "workspace:*", lib: "^1.0.0" },
    peerDependencies: { p: "^3.0.0", q: "^1.0.0" },
    peerDependenciesMeta: { q: { optional: true } },
  }),
  pkg("b"),
];

describe("computePins", () => {
  const pins = computePins(lock, packages);

  it("holds dependencies, required peers, @types/node and their closure, with no peer suffix", () => {
    expect(Object.fromEntries([...pins.versions].map(([n, s]) => [n, [...s].sort()]))).toEqual({
      lib: ["1.0.0", "2.0.0"],
      p: ["3.0.0"],
      mid: ["1.5.0"],
      opt: ["1.0.0"],
      "@types/node": ["20.1.0"],
      "undici-types": ["6.0.0"],
    });
    expect(pins.direct).toEqual({ p: "3.0.0", "@types/node": "20.1.0" });
  });

  it("pins a name locked once everywhere, and one locked twice per parent", () => {
    expect(npmOverrides(pins)).toEqual({
      "@types/node": "20.1.0",
      lib: "1.0.0",
      mid: "1.5.0",
      opt: "1.0.0",
      p: "3.0.0",
      "undici-types": "6.0.0",
      "mid@1.5.0": { lib: "2.0.0" },
    });
    expect(pnpmOverrides(pins)).toEqual({
      "@types/node": "20.1.0",
      lib: "1.0.0",
      mid: "1.5.0",
      opt: "1.0.0",
      p: "3.0.0",
      "undici-types": "6.0.0",
      "mid@1.5.0>lib": "2.0.0",
    });
  });

  it("refuses two published packages locked to different versions of one name", () => {
    const split = structuredClone(lock);
    split.importers["packages/b"] = {
      dependencies: { lib: { specifier: "^2.0.0", version: "2.0.0" } },
    };
    const both = [packages[0]!, pkg("b", { dependencies: { lib: "^2.0.0" } })];
    expect(() => computePins(split, both)).toThrow(
      /resolves lib at 1\.0\.0 and 2\.0\.0 \(packages\/b\)/,
    );
  });

  it("refuses a peer the lock does not resolve, saying where to add it", () => {
    const noPeer = structuredClone(lock);
    delete noPeer.importers["packages/a"]!.devDependencies;
    expect(() => computePins(noPeer, packages)).toThrow(
      /importer "packages\/a" resolves no p; add it to packages\/a\/package.json/,
    );
  });

  it("reads the workspace's two-document pnpm-lock.yaml", () => {
    const real = readLockfile();
    expect(Object.keys(real.importers)).toContain("packages/redis");
    expect(Object.keys(real.snapshots).length).toBeGreaterThan(100);
  });
});

describe("driftFromLock", () => {
  const pins = computePins(lock, packages);
  const skip = new Set(["@x/a", "@x/b"]);
  const exact = new Map([
    ["@x/a", new Set(["0.1.0"])],
    ["lib", new Set(["1.0.0", "2.0.0"])],
    ["p", new Set(["3.0.0"])],
    ["mid", new Set(["1.5.0"])],
    ["@types/node", new Set(["20.1.0"])],
    ["undici-types", new Set(["6.0.0"])],
  ]);

  it("is empty for an install that is the lock's", () => {
    expect(driftFromLock(exact, pins, skip)).toEqual([]);
  });

  it("names a newer version, a package outside the lock and a missing direct one", () => {
    const drifted = new Map(exact);
    drifted.set("p", new Set(["3.1.0"]));
    drifted.set("redis-errors-types", new Set(["1.0.0"]));
    drifted.delete("@types/node");
    expect(driftFromLock(drifted, pins, skip)).toEqual([
      "p@3.1.0: pnpm-lock.yaml has 3.0.0",
      "redis-errors-types@1.0.0: not in pnpm-lock.yaml's closure",
      "@types/node: not installed (pnpm-lock.yaml has 20.1.0)",
    ]);
  });
});

describe("installedPackages", () => {
  it("reads npm's nested trees and pnpm's .pnpm store", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "heartline-pins-"));
    const write = (at: string, name: string, version: string) => {
      fs.mkdirSync(path.join(dir, at), { recursive: true });
      fs.writeFileSync(path.join(dir, at, "package.json"), JSON.stringify({ name, version }));
    };
    try {
      write("node_modules/lib", "lib", "1.0.0");
      write("node_modules/mid", "mid", "1.5.0");
      write("node_modules/mid/node_modules/lib", "lib", "2.0.0");
      write("node_modules/@types/node", "@types/node", "20.1.0");
      write("node_modules/.pnpm/p@3.0.0/node_modules/p", "p", "3.0.0");
      fs.mkdirSync(path.join(dir, "node_modules/.bin"));
      const found = installedPackages(dir);
      expect(Object.fromEntries([...found].map(([n, s]) => [n, [...s].sort()]))).toEqual({
        lib: ["1.0.0", "2.0.0"],
        mid: ["1.5.0"],
        "@types/node": ["20.1.0"],
        p: ["3.0.0"],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
