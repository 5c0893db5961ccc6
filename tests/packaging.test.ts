// Every published package works from its tarball as its README says (issue
// 14, point 2): each is packed with `pnpm pack` (its prepack builds it),
// installed from the local tarballs only into a fresh npm project and a fresh
// pnpm project outside the repository, typechecked as a consumer would
// (node16, nodenext, bundler; skipLibCheck false, `types: []`), run (a
// server + client echo, and @heartline/testing), linted with publint and
// attw, and the client bundled for the browser. Then the release dry run.
// Prints how long each step took.
//
// Hermetic (issue 20): everything the consumers take from the registry is
// pinned to the versions pnpm-lock.yaml resolved (support/pins.ts), and a
// test checks what they actually installed against the lock. With
// HEARTLINE_CONSUMER_VERSIONS=latest (`pnpm check:latest`, never part of
// `pnpm test`) the same checks run with no pins: the newest versions the
// published ranges allow, as a user installing today gets them.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  type PackageJson,
  publishedPackages,
  readJson,
  registryPeers,
  repoRoot,
} from "./support/packages.js";
import {
  computePins,
  driftFromLock,
  installedPackages,
  npmOverrides,
  pnpmOverrides,
} from "./support/pins.js";

/** false under `pnpm check:latest`: no pins, the newest the ranges allow. */
const pinned = process.env.HEARTLINE_CONSUMER_VERSIONS !== "latest";
const pins = computePins();

import { bunBin, denoBin } from "./support/runtimes.js";

const fixture = path.join(repoRoot, "tests/fixtures/consumer");
const tsc = path.join(repoRoot, "node_modules/typescript/lib/tsc.js");
const bin = (name: string) => path.join(repoRoot, "node_modules/.bin", name);

/** pnpm as `pnpm test` started us, or the version the repository pins. */
function pnpmCommand(): string[] {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(path.basename(execPath)))
    return /\.c?js$/.test(execPath) ? [process.execPath, execPath] : [execPath];
  const pinned = readJson<{ packageManager: string }>(path.join(repoRoot, "package.json"));
  return ["npx", "-y", pinned.packageManager];
}
const pnpm = pnpmCommand();

interface Ran {
  stdout: string;
  stderr: string;
}
function run(
  command: string[],
  cwd: string,
  options: { timeout?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Ran> {
  const [file, ...args] = command;
  return new Promise((resolve, reject) => {
    execFile(
      file!,
      args,
      {
        cwd,
        timeout: options.timeout ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, ...options.env },
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `\`${command.join(" ")}\` in ${cwd} failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`,
            ),
          );
        } else resolve({ stdout, stderr });
      },
    );
  });
}

const timings: string[] = [];
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings.push(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Runs every promise to the end; fails naming each one that rejected. */
async function all(work: Record<string, Promise<unknown>>): Promise<void> {
  const names = Object.keys(work);
  const settled = await Promise.allSettled(Object.values(work));
  const failed = settled.flatMap((s, i) =>
    s.status === "rejected" ? [`${names[i]}: ${(s.reason as Error).message}`] : [],
  );
  expect(failed, failed.join("\n\n")).toEqual([]);
}

const started = performance.now();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "heartline-packaging-"));
const tarballs = path.join(work, "tarballs");
const tarballOf = (json: PackageJson) =>
  path.join(tarballs, `${json.name.replace(/^@/, "").replace("/", "-")}-${json.version}.tgz`);
const consumers = ["npm", "pnpm"] as const;
type Consumer = (typeof consumers)[number];
const consumerDir = (c: Consumer) => path.join(work, c);

/** The consumer's package.json: what each README's install line adds, from the tarballs. */
function consumerManifest(consumer: Consumer): object {
  const local = Object.fromEntries(
    publishedPackages.map((p) => [
      p.json.name,
      `file:../tarballs/${path.basename(tarballOf(p.json))}`,
    ]),
  );
  // Every required peer an install line names (zod, ioredis, @opentelemetry/api…):
  // at the lock's version, or (canary) the published range.
  const peers: Record<string, string> = Object.assign(
    {},
    ...publishedPackages.map((p) =>
      Object.fromEntries(
        registryPeers(p.json).map((name) => [
          name,
          pinned ? pins.direct[name]! : p.json.peerDependencies![name]!,
        ]),
      ),
    ),
  );
  const root = readJson<PackageJson & { devDependencies: Record<string, string> }>(
    path.join(repoRoot, "package.json"),
  );
  const typesNode = pinned ? pins.direct["@types/node"]! : root.devDependencies["@types/node"]!;
  return {
    name: `heartline-consumer-${consumer}`,
    private: true,
    type: "module",
    dependencies: { ...local, ...peers },
    devDependencies: { "@types/node": typesNode },
    // The tarballs' own dependencies on each other ("0.1.0") resolve to the
    // tarballs too, never to a registry; everything else to the lock's
    // version (npm accepts an override of a direct dependency only when it
    // is the same spec: both are the lock's exact version).
    ...(consumer === "npm"
      ? {
          overrides: {
            ...(pinned ? npmOverrides(pins) : {}),
            ...Object.fromEntries(Object.keys(local).map((n) => [n, `$${n}`])),
          },
        }
      : {}),
  };
}

beforeAll(async () => {
  fs.mkdirSync(tarballs);
  // One `tsc -b` over every package (half the CPU of five separate builds);
  // each prepack's own `tsc -b` then finds its build up to date.
  await timed("build every package (pnpm build: one tsc -b)", () =>
    run([...pnpm, "run", "build"], repoRoot),
  );
  await timed("pack (each prepack build: up to date)", () =>
    Promise.all(
      publishedPackages.map((p) =>
        run([...pnpm, "pack", "--pack-destination", tarballs], path.join(repoRoot, p.dir)),
      ),
    ),
  );
  for (const consumer of consumers) {
    const dir = consumerDir(consumer);
    fs.cpSync(fixture, dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "package.json"),
      `${JSON.stringify(consumerManifest(consumer), null, 2)}\n`,
    );
  }
  const overrides = {
    ...(pinned ? pnpmOverrides(pins) : {}),
    ...Object.fromEntries(
      publishedPackages.map((p) => [
        p.json.name,
        `file:../tarballs/${path.basename(tarballOf(p.json))}`,
      ]),
    ),
  };
  fs.writeFileSync(path.join(consumerDir("pnpm"), "pnpm-workspace.yaml"), stringify({ overrides }));
  // Pinned, a cached copy is the same bytes; the canary asks the registry
  // for the newest (npm's --prefer-online; pnpm revalidates by default).
  const freshness = pinned ? ["--prefer-offline"] : [];
  await timed("npm install and pnpm install (in parallel)", () =>
    Promise.all([
      run(
        [
          "npm",
          "install",
          "--no-audit",
          "--no-fund",
          ...(pinned ? freshness : ["--prefer-online"]),
          "--loglevel=error",
        ],
        consumerDir("npm"),
      ),
      run([...pnpm, "install", ...freshness, "--no-frozen-lockfile"], consumerDir("pnpm")),
    ]),
  );
}, 300_000);

afterAll(() => {
  // HEARTLINE_KEEP_PACKAGING=1 keeps the tarballs and consumer projects to look at.
  if (process.env.HEARTLINE_KEEP_PACKAGING) console.log(`kept ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
  const total = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`packaging check, ${total} s in all:\n  ${timings.join("\n  ")}`);
});

describe("the tarballs", () => {
  const tarList = (file: string) =>
    run(["tar", "-tzf", file], work).then((r) => r.stdout.split("\n").filter(Boolean));
  const tarFile = (file: string, entry: string) =>
    run(["tar", "-xzOf", file, entry], work).then((r) => r.stdout);

  it.each(publishedPackages.map((p) => [p.json.name, p] as const))(
    "%s holds its build, LICENSE, README and CHANGELOG, and no workspace: range",
    async (_name, p) => {
      const file = tarballOf(p.json);
      const entries = new Set((await tarList(file)).map((e) => e.replace(/^package\//, "")));
      for (const must of ["LICENSE", "README.md", "CHANGELOG.md", "package.json"])
        expect(entries, must).toContain(must);
      const packed = JSON.parse(await tarFile(file, "package/package.json")) as PackageJson;
      const targets: string[] = [];
      const collect = (value: unknown): void => {
        if (typeof value === "string") targets.push(value);
        else if (value && typeof value === "object") Object.values(value).forEach(collect);
      };
      collect(packed.exports);
      for (const target of targets.map((t) => t.replace(/^\.\//, "")))
        expect(entries, `exports target ${target}`).toContain(target);
      // Only a package that declares @types/node may need it in its declarations.
      if (!packed.peerDependencies?.["@types/node"]) {
        const declarations = [...entries].filter((e) => e.endsWith(".d.ts"));
        const texts = await Promise.all(declarations.map((e) => tarFile(file, `package/${e}`)));
        const nodeTyped = declarations.filter((_, i) =>
          /from "node:|reference types="node"|\bBuffer\b|\bNodeJS\./.test(texts[i]!),
        );
        expect(nodeTyped, "declarations that need @types/node").toEqual([]);
      }
      const ranges = { ...packed.dependencies, ...packed.peerDependencies };
      expect(Object.values(ranges).filter((r) => r.startsWith("workspace:"))).toEqual([]);
      for (const [dep, range] of Object.entries(p.json.dependencies ?? {}))
        if (range.startsWith("workspace:")) expect(ranges[dep]).toBe(p.json.version);
    },
  );

  // Issue 20: its RedisClient is structural, so a user's program never
  // loads ioredis's declarations through ours (nor their bugs).
  it("@heartline/redis's declarations name no ioredis type", async () => {
    const redis = publishedPackages.find((p) => p.json.name === "@heartline/redis")!;
    const file = tarballOf(redis.json);
    const declarations = (await tarList(file)).filter((e) => e.endsWith(".d.ts"));
    expect(declarations.length).toBeGreaterThan(0);
    const naming = [];
    for (const entry of declarations)
      if (/["']ioredis["'/]/.test(await tarFile(file, entry))) naming.push(entry);
    expect(naming).toEqual([]);
  });
});

describe.each(consumers)("installed with %s", (consumer) => {
  const dir = consumerDir(consumer);

  it("took every @heartline package from the local tarballs", () => {
    const names = publishedPackages.map((p) => p.json.name).sort();
    if (consumer === "npm") {
      const lock = readJson<{ packages: Record<string, { resolved?: string }> }>(
        path.join(dir, "package-lock.json"),
      );
      const heartline = Object.entries(lock.packages).filter(([k]) =>
        /node_modules\/@heartline\//.test(k),
      );
      expect(
        [...new Set(heartline.map(([k]) => k.replace(/^.*node_modules\//, "")))].sort(),
      ).toEqual(names);
      for (const [key, entry] of heartline) expect(entry.resolved, key).toMatch(/^file:/);
    } else {
      const store = fs.readdirSync(path.join(dir, "node_modules/.pnpm"));
      const heartline = store.filter((d) => d.startsWith("@heartline+"));
      expect([...new Set(heartline.map((d) => d.replace(/@file.*$/, "")))].sort()).toEqual(
        names.map((n) => n.replace("/", "+")),
      );
      for (const entry of heartline) expect(entry).toMatch(/@file\+/);
    }
  });

  it(
    pinned
      ? "installed exactly the versions pnpm-lock.yaml resolved, and nothing else"
      : "reports how the newest versions differ from pnpm-lock.yaml",
    () => {
      const drift = driftFromLock(installedPackages(dir), pins);
      if (!pinned) {
        // The canary's finding, not a failure: scripts/check-latest.mjs prints it.
        const file = process.env.HEARTLINE_CANARY_DRIFT;
        if (file) {
          const before = fs.existsSync(file) ? readJson<object>(file) : {};
          fs.writeFileSync(file, JSON.stringify({ ...before, [consumer]: drift }));
        } else console.log(`${consumer}: differs from pnpm-lock.yaml:\n  ${drift.join("\n  ")}`);
        return;
      }
      expect(drift, `${consumer} consumer drifted from the lock:\n  ${drift.join("\n  ")}`).toEqual(
        [],
      );
    },
  );

  // pnpm's strict layout is where an undeclared dependency shows, so every
  // configuration is checked there; npm's hoisted tree compiles the program
  // that then runs (nodenext).
  const configs = consumer === "pnpm" ? ["node16", "nodenext", "bundler"] : ["nodenext"];
  it(`typechecks under ${configs.join(", ")} (skipLibCheck false, types: [])`, async () => {
    await timed(`${consumer}: tsc, ${configs.length} configuration(s) in parallel`, () =>
      all(
        Object.fromEntries(
          configs.map((config) => [
            `tsconfig.${config}.json`,
            run([process.execPath, tsc, "-p", `tsconfig.${config}.json`], dir),
          ]),
        ),
      ),
    );
  }, 120_000);

  it("runs the server + client echo and a @heartline/testing harness, each exiting by itself", async () => {
    const [echo, harness] = await timed(`${consumer}: run the programs`, () =>
      Promise.all([
        run([process.execPath, "out/echo.js"], dir, { timeout: 20_000 }),
        run([process.execPath, "out/harness.js"], dir, { timeout: 20_000 }),
      ]),
    );
    expect(JSON.parse(echo.stdout)).toEqual({
      reply: "hello",
      reason: "client_closed",
      code: 1000,
    });
    expect(JSON.parse(harness.stdout)).toEqual({ reason: "timeout", code: 4000, afterMs: 1000 });
  }, 60_000);
});

describe("the tarballs on Bun and Deno", () => {
  // The npm consumer's compiled program (out/echo-runtime.js), run with bare
  // imports resolved from its node_modules: @heartline/server/bun and /deno
  // as a Bun or Deno user installs them.
  it.each([
    ["bun", bunBin, []],
    ["deno", denoBin, ["run", "--allow-all", "--node-modules-dir=manual", "--no-lock", "--quiet"]],
  ] as const)(
    "%s runs the server + client echo from the tarballs",
    async (runtime, exe, args) => {
      const { stdout } = await timed(`npm: ${runtime} out/echo-runtime.js`, () =>
        run([exe, ...args, "out/echo-runtime.js"], consumerDir("npm"), { timeout: 30_000 }),
      );
      expect(JSON.parse(stdout)).toEqual({
        runtime,
        reply: "hello",
        reason: "client_closed",
        code: 1000,
      });
    },
    60_000,
  );
});

describe("package linters on each tarball", () => {
  const files = publishedPackages.map((p) => [p.json.name, tarballOf(p.json)] as const);

  it("publint finds nothing", async () => {
    await timed("publint", () =>
      all(
        Object.fromEntries(
          files.map(([name, file]) => [
            name,
            run([bin("publint"), "run", file, "--strict"], work).then((r) => {
              expect(`${r.stdout}${r.stderr}`, name).not.toMatch(/warning|error|suggestion/i);
            }),
          ]),
        ),
      ),
    );
  }, 120_000);

  it("attw --profile esm-only finds nothing", async () => {
    await timed("attw", () =>
      all(
        Object.fromEntries(
          files.map(([name, file]) => [
            name,
            run(
              [
                bin("attw"),
                file,
                "--profile",
                "esm-only",
                "--no-definitely-typed",
                "--format",
                "ascii",
              ],
              work,
            ),
          ]),
        ),
      ),
    );
  }, 120_000);
});

describe("the client in a browser bundle", () => {
  it("bundles with esbuild for the browser with no Node built-in and no ws", async () => {
    const result = await timed("esbuild browser bundle", () =>
      build({
        absWorkingDir: consumerDir("pnpm"),
        entryPoints: ["src/browser.ts"],
        bundle: true,
        format: "esm",
        platform: "browser",
        minify: true,
        write: false,
        metafile: true,
        logLevel: "silent",
      }),
    );
    expect(result.warnings).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes("@heartline/client"))).toBe(true);
    expect(inputs.filter((i) => /^node:|[/+]ws[@/]|node_modules\/ws\//.test(i))).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/["'`]node:|require\(["']ws["']\)/);
    const bytes = gzipSync(code, { level: 9 }).length;
    console.log(`client browser bundle from the tarballs: ${bytes} bytes min+gzip`);
  });
});

describe("the release", () => {
  it("`pnpm release:dry-run` would publish every package (the tarballs above are its build)", async () => {
    // --ignore-scripts: `pack` above ran each prepack build moments ago.
    const { stdout, stderr } = await timed("release dry run", () =>
      run([...pnpm, "run", "release:dry-run", "--ignore-scripts"], repoRoot),
    );
    for (const { json } of publishedPackages)
      expect(`${stdout}${stderr}`).toContain(
        `Skip publishing ${json.name}@${json.version} (dry run)`,
      );
  }, 60_000);
});
