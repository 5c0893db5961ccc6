// The one declared place for what a consumer project installs from the
// registry (issue 20, point 1): the workspace's pnpm-lock.yaml. Every check
// that installs the published packages into a temporary project pins the
// whole tree to the versions the lock resolved, so a new release elsewhere
// cannot change what `pnpm test` does. To move the pins: `pnpm update` (or
// edit a devDependency), run `pnpm install`, commit the new pnpm-lock.yaml.
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import {
  type PackageJson,
  publishedPackages,
  readJson,
  registryPeers,
  repoRoot,
} from "./packages.js";

interface LockImporterDep {
  specifier: string;
  version: string;
}
interface LockImporter {
  dependencies?: Record<string, LockImporterDep>;
  devDependencies?: Record<string, LockImporterDep>;
  optionalDependencies?: Record<string, LockImporterDep>;
}
interface LockSnapshot {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
export interface Lockfile {
  importers: Record<string, LockImporter>;
  snapshots: Record<string, LockSnapshot>;
}

/**
 * pnpm 11+ writes two YAML documents (pnpm's own version, then the project);
 * their importers and snapshots are merged.
 */
export function readLockfile(file = path.join(repoRoot, "pnpm-lock.yaml")): Lockfile {
  const lock: Lockfile = { importers: {}, snapshots: {} };
  for (const doc of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
    if (!("toJS" in doc)) throw new Error(`${file}: not YAML`);
    const part = (doc.toJS() ?? {}) as Partial<Lockfile>;
    for (const [key, importer] of Object.entries(part.importers ?? {}))
      lock.importers[key] = { ...lock.importers[key], ...importer };
    Object.assign(lock.snapshots, part.snapshots);
  }
  return lock;
}

function addTo(map: Map<string, Set<string>>, name: string, version: string): void {
  const set = map.get(name) ?? new Set<string>();
  set.add(version);
  map.set(name, set);
}

/** "4.4.3(supports-color@7.2.0)" → "4.4.3": the version without its peer suffix. */
const bare = (version: string) => version.replace(/\(.*$/, "");

/** What the closure holds: each name's locked versions, and who needs which. */
export interface Pins {
  /** name → every version the lock resolved for it inside the closure. */
  readonly versions: ReadonlyMap<string, ReadonlySet<string>>;
  /** "parent@version" → its dependencies' { name: version } (for scoped pins). */
  readonly edges: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The names a consumer installs directly: required peers and @types/node. */
  readonly direct: Readonly<Record<string, string>>;
  /** The closure's roots (the published packages' dependencies, and `direct`). */
  readonly roots: Readonly<Record<string, string>>;
}

/**
 * The closure a consumer installs: every published package's non-workspace
 * dependencies and required peers, and @types/node (the consumer's own
 * devDependency, as the root's), each at the version its importer resolved
 * in the lock, then everything those depend on (optional dependencies too:
 * they cost nothing when not installed), as the lock's snapshots record.
 */
export function computePins(
  lock: Lockfile = readLockfile(),
  packages: readonly { dir: string; json: PackageJson }[] = publishedPackages,
): Pins {
  const versions = new Map<string, Set<string>>();
  const edges = new Map<string, Record<string, string>>();
  const direct: Record<string, string> = {};
  const roots: Record<string, string> = {};
  const root = (name: string, version: string, from: string) => {
    if (roots[name] !== undefined && roots[name] !== bare(version))
      throw new Error(
        `pnpm-lock.yaml resolves ${name} at ${roots[name]} and ${bare(version)} (${from}): ` +
          "align the workspace's ranges so a consumer gets one version",
      );
    roots[name] = bare(version);
  };
  const published = new Set(packages.map((p) => p.json.name));

  const resolvedIn = (importer: string, name: string): string => {
    const entry = lock.importers[importer];
    const found =
      entry?.dependencies?.[name] ??
      entry?.devDependencies?.[name] ??
      entry?.optionalDependencies?.[name];
    if (!found)
      throw new Error(
        `pnpm-lock.yaml: importer "${importer}" resolves no ${name}; ` +
          `add it to ${importer}/package.json (a devDependency, for a peer) and run pnpm install`,
      );
    return found.version;
  };

  const seen = new Set<string>();
  const visit = (name: string, version: string): void => {
    const key = `${name}@${version}`;
    if (seen.has(key)) return;
    seen.add(key);
    const plain = bare(version);
    addTo(versions, name, plain);
    const snapshot = lock.snapshots[key];
    if (!snapshot) throw new Error(`pnpm-lock.yaml has no snapshot ${key}`);
    const deps = { ...snapshot.dependencies, ...snapshot.optionalDependencies };
    const parentKey = `${name}@${plain}`;
    edges.set(parentKey, {
      ...edges.get(parentKey),
      ...Object.fromEntries(Object.entries(deps).map(([n, v]) => [n, bare(v)])),
    });
    for (const [dep, depVersion] of Object.entries(deps)) visit(dep, depVersion);
  };

  for (const p of packages) {
    const names = [
      ...Object.entries(p.json.dependencies ?? {})
        .filter(([, range]) => !range.startsWith("workspace:"))
        .map(([name]) => name),
      ...registryPeers(p.json),
    ].filter((name) => !published.has(name));
    for (const name of names) {
      const version = resolvedIn(p.dir, name);
      if (registryPeers(p.json).includes(name)) direct[name] = bare(version);
      root(name, version, p.dir);
      visit(name, version);
    }
  }
  const typesNode = resolvedIn(".", "@types/node");
  direct["@types/node"] = bare(typesNode);
  root("@types/node", typesNode, "the root package.json");
  visit("@types/node", typesNode);
  return { versions, edges, direct, roots };
}

/**
 * Pins that hold everywhere: a name the closure holds at one version, and a
 * root (what a published package or the consumer asks for) at its version.
 */
function single(pins: Pins): [string, string][] {
  return [...pins.versions]
    .flatMap(([name, set]): [string, string][] =>
      set.size === 1
        ? [[name, [...set][0]!]]
        : pins.roots[name] !== undefined
          ? [[name, pins.roots[name]]]
          : [],
    )
    .sort(([a], [b]) => a.localeCompare(b));
}

/**
 * A name locked at several versions is also pinned per parent: for each
 * parent in the closure that depends on it, the version that parent got
 * (npm and pnpm both prefer a parent-scoped override to a global one).
 */
function scoped(pins: Pins): { parent: string; name: string; version: string }[] {
  const multi = new Set([...pins.versions].filter(([, s]) => s.size > 1).map(([n]) => n));
  const out: { parent: string; name: string; version: string }[] = [];
  for (const [parent, deps] of [...pins.edges].sort(([a], [b]) => a.localeCompare(b)))
    for (const [name, version] of Object.entries(deps))
      if (multi.has(name)) out.push({ parent, name, version });
  return out;
}

/** npm's `overrides`: exact versions, parent-scoped where a name has several. */
export function npmOverrides(pins: Pins): Record<string, string | Record<string, string>> {
  const out: Record<string, string | Record<string, string>> = Object.fromEntries(single(pins));
  for (const { parent, name, version } of scoped(pins)) {
    const slot = out[parent];
    out[parent] = { ...(typeof slot === "object" ? slot : {}), [name]: version };
  }
  return out;
}

/** pnpm's `overrides` (pnpm-workspace.yaml): "name" or "parent@version>name". */
export function pnpmOverrides(pins: Pins): Record<string, string> {
  return {
    ...Object.fromEntries(single(pins)),
    ...Object.fromEntries(scoped(pins).map((s) => [`${s.parent}>${s.name}`, s.version])),
  };
}

/**
 * Every package installed under a consumer's node_modules (npm's nested
 * trees and pnpm's .pnpm store alike), as "name" → versions found, read from
 * each node_modules/<name>/package.json. Symlinks are not followed, so each
 * physical copy is read once.
 */
export function installedPackages(dir: string): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const walk = (modules: string): void => {
    if (!fs.existsSync(modules)) return;
    for (const entry of fs.readdirSync(modules, { withFileTypes: true })) {
      if (entry.name === ".bin") continue;
      const full = path.join(modules, entry.name);
      if (entry.name === ".pnpm") {
        for (const store of fs.readdirSync(full, { withFileTypes: true }))
          if (store.isDirectory()) walk(path.join(full, store.name, "node_modules"));
        continue;
      }
      if (entry.name.startsWith("@") && entry.isDirectory()) {
        for (const scopedEntry of fs.readdirSync(full, { withFileTypes: true }))
          if (scopedEntry.isDirectory()) readPackage(path.join(full, scopedEntry.name));
        continue;
      }
      if (entry.isDirectory()) readPackage(full);
    }
  };
  const readPackage = (dir: string): void => {
    const file = path.join(dir, "package.json");
    if (!fs.existsSync(file)) return;
    const json = readJson<{ name?: string; version?: string }>(file);
    if (json.name && json.version) addTo(found, json.name, json.version);
    walk(path.join(dir, "node_modules"));
  };
  walk(path.join(dir, "node_modules"));
  return found;
}

/**
 * How a consumer's install differs from the lock: each installed package
 * (other than the published ones, which come from the tarballs) that is not
 * in the closure or not at a locked version, and each direct name missing.
 * Empty when the install is exactly the lock's.
 */
export function driftFromLock(
  installed: ReadonlyMap<string, ReadonlySet<string>>,
  pins: Pins,
  skip: ReadonlySet<string> = new Set(publishedPackages.map((p) => p.json.name)),
): string[] {
  const drift: string[] = [];
  for (const [name, got] of [...installed].sort(([a], [b]) => a.localeCompare(b))) {
    if (skip.has(name)) continue;
    const locked = pins.versions.get(name);
    for (const version of got)
      if (!locked) drift.push(`${name}@${version}: not in pnpm-lock.yaml's closure`);
      else if (!locked.has(version))
        drift.push(`${name}@${version}: pnpm-lock.yaml has ${[...locked].join(", ")}`);
  }
  for (const [name, version] of Object.entries(pins.direct))
    if (!installed.has(name)) drift.push(`${name}: not installed (pnpm-lock.yaml has ${version})`);
  return drift;
}
