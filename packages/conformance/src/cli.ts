#!/usr/bin/env node
// heartline-conformance: `server <url> --interval-ms N [settings]`,
// `client [settings] -- <command>`, or `drive-heartline-client`.
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { runClientSuite } from "./client-cases.js";
import { runHeartlineClientDriver } from "./heartline-client-driver.js";
import type { SuiteResult } from "./report.js";
import { runServerSuite } from "./server-cases.js";
import type { ServerSuiteOptions } from "./server-suite.js";

const usage = `Usage:
  heartline-conformance server <ws-url> --interval-ms <X> [settings]
      --timeout-ms <T>                 the server's timeoutMs (default 2X)
      --tolerance-ms <ms>              timing tolerance (default 100)
      --header "Name: value"           sent on every upgrade (repeatable)
      --allowed-origin <origin>        an origin the server allows (403 case)
      --max-payload <bytes>            the server's maxPayload (1009 case)
      --rate-limit <perSecond>,<burst> the server's rate limit, if not announced
      --max-connections <n>            the total limit (503 case)
      --max-connections-per-address <n> the per-address limit (429 case)
      --unauthorized 401|4401          refusal without --header (auth case)
      --echo                           the application echoes every message
      --invalid-data <json>            data the application's schema refuses
      --resume                         resumption is on (fail, not skip, without it)
      --shutdown-command <sh>          a shell command that shuts the server down
      --pid <pid> [--signal SIGTERM]   or a process to signal for shutdown
      --only <id>[,<id>…]              only these cases (a prefix ending in "." too)
  heartline-conformance client [--interval-ms X] [--tolerance-ms ms] [--only ids] -- <command…>
  heartline-conformance drive-heartline-client
`;

function fail(message: string): never {
  process.stderr.write(`heartline-conformance: ${message}\n\n${usage}`);
  process.exit(2);
}

function int(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) fail(`--${name} must be a whole number, got ${raw}`);
  return value;
}

const write = (line: string) => process.stdout.write(`${line}\n`);
const only = (raw: string | undefined) =>
  raw === undefined ? undefined : raw.split(",").filter(Boolean);
const exitWith = (result: SuiteResult) => process.exit(result.failed > 0 ? 1 : 0);

function shellShutdown(command: string): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const child = spawn(command, { shell: true, stdio: "inherit" });
      child.once("error", reject);
      child.once("exit", (code) =>
        code === 0 ? resolve() : reject(new Error(`--shutdown-command exited ${code}`)),
      );
    });
}

async function server(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "interval-ms": { type: "string" },
      "timeout-ms": { type: "string" },
      "tolerance-ms": { type: "string" },
      header: { type: "string", multiple: true },
      "allowed-origin": { type: "string" },
      "max-payload": { type: "string" },
      "rate-limit": { type: "string" },
      "max-connections": { type: "string" },
      "max-connections-per-address": { type: "string" },
      unauthorized: { type: "string" },
      echo: { type: "boolean" },
      "invalid-data": { type: "string" },
      resume: { type: "boolean" },
      "shutdown-command": { type: "string" },
      pid: { type: "string" },
      signal: { type: "string" },
      only: { type: "string" },
    },
  });
  const url = positionals[0];
  if (url === undefined || !/^wss?:\/\//.test(url)) fail("give the server's ws:// URL");
  const intervalMs = int("interval-ms", values["interval-ms"]);
  if (!intervalMs) fail("--interval-ms is required (the server's intervalMs)");
  const headers = Object.fromEntries(
    (values.header ?? []).map((h) => {
      const at = h.indexOf(":");
      if (at < 1) fail(`--header must be "Name: value", got ${h}`);
      return [h.slice(0, at).trim(), h.slice(at + 1).trim()];
    }),
  );
  let rateLimit: ServerSuiteOptions["rateLimit"];
  if (values["rate-limit"] !== undefined) {
    const [perSecond, burst] = values["rate-limit"].split(",").map(Number);
    if (!(perSecond! > 0 && burst! > 0)) fail("--rate-limit is <perSecond>,<burst>, both positive");
    rateLimit = { perSecond: perSecond!, burst: burst! };
  }
  const unauthorized = values.unauthorized;
  if (unauthorized !== undefined && unauthorized !== "401" && unauthorized !== "4401")
    fail("--unauthorized is 401 or 4401");
  let invalidData: unknown;
  if (values["invalid-data"] !== undefined) {
    try {
      invalidData = JSON.parse(values["invalid-data"]);
    } catch {
      fail("--invalid-data must be JSON");
    }
  }
  const pid = int("pid", values.pid);
  const signal = (values.signal ?? "SIGTERM") as NodeJS.Signals;
  const shutdown =
    values["shutdown-command"] !== undefined
      ? shellShutdown(values["shutdown-command"])
      : pid !== undefined
        ? async () => {
            process.kill(pid, signal);
          }
        : undefined;
  const options: ServerSuiteOptions = {
    url,
    intervalMs,
    headers,
    ...(values["timeout-ms"] ? { timeoutMs: int("timeout-ms", values["timeout-ms"])! } : {}),
    ...(values["tolerance-ms"]
      ? { toleranceMs: int("tolerance-ms", values["tolerance-ms"])! }
      : {}),
    ...(values["allowed-origin"] ? { allowedOrigin: values["allowed-origin"] } : {}),
    ...(values["max-payload"] ? { maxPayload: int("max-payload", values["max-payload"])! } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(values["max-connections"]
      ? { maxConnections: int("max-connections", values["max-connections"])! }
      : {}),
    ...(values["max-connections-per-address"]
      ? {
          maxConnectionsPerAddress: int(
            "max-connections-per-address",
            values["max-connections-per-address"],
          )!,
        }
      : {}),
    ...(unauthorized ? { unauthorized: Number(unauthorized) as 401 | 4401 } : {}),
    ...(values.echo ? { echo: true } : {}),
    ...(values["invalid-data"] !== undefined ? { invalidData } : {}),
    ...(values.resume ? { resume: true } : {}),
    ...(shutdown ? { shutdown } : {}),
  };
  const selected = only(values.only);
  exitWith(await runServerSuite(options, { write, ...(selected ? { only: selected } : {}) }));
}

async function client(args: string[]): Promise<void> {
  const dash = args.indexOf("--");
  if (dash < 0 || dash === args.length - 1) fail("give the client's command after --");
  const { values } = parseArgs({
    args: args.slice(0, dash),
    options: {
      "interval-ms": { type: "string" },
      "tolerance-ms": { type: "string" },
      only: { type: "string" },
    },
  });
  const selected = only(values.only);
  const intervalMs = int("interval-ms", values["interval-ms"]);
  const toleranceMs = int("tolerance-ms", values["tolerance-ms"]);
  exitWith(
    await runClientSuite(
      {
        command: args.slice(dash + 1),
        ...(intervalMs ? { intervalMs } : {}),
        ...(toleranceMs ? { toleranceMs } : {}),
      },
      { write, ...(selected ? { only: selected } : {}) },
    ),
  );
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "server") await server(rest);
else if (mode === "client") await client(rest);
else if (mode === "drive-heartline-client") runHeartlineClientDriver();
else if (mode === "--help" || mode === "-h") process.stdout.write(usage);
else fail(mode === undefined ? "give a mode" : `unknown mode ${mode}`);
