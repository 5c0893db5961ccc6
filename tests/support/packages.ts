// The published packages as the checks see them: every packages/* whose
// package.json is not private, so a new package is covered with no edit here.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  repository?: { type: string; url: string; directory?: string };
  homepage?: string;
  bugs?: { url: string };
  engines?: Record<string, string>;
  exports?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface WorkspacePackage {
  /** e.g. "packages/server" */
  readonly dir: string;
  readonly json: PackageJson;
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

export const rootPackage = readJson<PackageJson>(path.join(repoRoot, "package.json"));

/**
 * The repository's web address, from the root package.json's `repository`:
 * the one place it is written; every package's metadata and README links
 * are checked against it.
 */
export const repositoryUrl = rootPackage
  .repository!.url.replace(/^git\+/, "")
  .replace(/\.git$/, "");

export const publishedPackages: WorkspacePackage[] = fs
  .readdirSync(path.join(repoRoot, "packages"))
  .map((name) => `packages/${name}`)
  .filter((dir) => fs.existsSync(path.join(repoRoot, dir, "package.json")))
  .map((dir) => ({ dir, json: readJson<PackageJson>(path.join(repoRoot, dir, "package.json")) }))
  .filter((p) => p.json.private !== true);

/** Peer dependencies a user must install themselves (not marked optional). */
export function requiredPeers(json: PackageJson): string[] {
  return Object.keys(json.peerDependencies ?? {}).filter(
    (name) => json.peerDependenciesMeta?.[name]?.optional !== true,
  );
}

/**
 * The required peers that come from the registry: a sibling @heartline
 * package (`@heartline/redis`'s peer on the server) comes from its own
 * tarball, never pinned from the lockfile.
 */
export function registryPeers(json: PackageJson): string[] {
  return requiredPeers(json).filter((name) => !name.startsWith("@heartline/"));
}
