// The command-line side of the echo demo, the same on Node, Bun and Deno:
// settings from the environment, one JSON line on stdout per event (and
// nothing else there, so it can be piped into a log tool), the listening line
// on stderr, and a clean shutdown (goodbye + 1001 to every client) on SIGINT
// or SIGTERM.
import process from "node:process";
import type { EchoEventListeners } from "./echo-events.js";
import { type EchoSettings, EchoSettingsError, settingsFromEnv } from "./settings.js";

/** What each runtime's echo server gives the command line. */
export interface RunningEcho {
  /** The page, at the bound address, e.g. `http://127.0.0.1:5000/`. */
  readonly url: string;
  close(): Promise<void>;
}

export type StartEcho = (
  options: EchoSettings & { on: EchoEventListeners },
) => Promise<RunningEcho>;

function line(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Runs the demo with `start` (this runtime's server) until a signal stops it. */
export async function runEchoDemo(start: StartEcho, runtime: string): Promise<void> {
  let settings: EchoSettings;
  try {
    settings = settingsFromEnv(process.env);
  } catch (error) {
    if (!(error instanceof EchoSettingsError)) throw error;
    process.stderr.write(`echo demo: ${error.message}\n`);
    process.exit(2);
  }

  const echo = await start({
    ...settings,
    on: { connect: line, disconnect: line, resume: line, sessionEnd: line },
  }).catch((error: { code?: string; message?: string }) => {
    process.stderr.write(
      `echo demo: cannot listen on ${settings.host}:${settings.port} (${error.code ?? error.message})\n`,
    );
    process.exit(1);
  });

  const shown = ["127.0.0.1", "::1", "0.0.0.0", "::"].includes(settings.host)
    ? echo.url.replace(/\/\/[^/]+:/, "//localhost:")
    : echo.url;
  process.stderr.write(
    `Heartline echo demo on ${shown} (listening on ${echo.url}; WebSocket at /ws, ` +
      `ping every ${settings.intervalMs} ms, timeout ${2 * settings.intervalMs} ms; ${runtime}). Ctrl+C stops it.\n`,
  );

  // Shutdown: every client gets `goodbye` and close 1001 (and is printed as a
  // disconnect line), then exit 0. A second signal while closing changes nothing.
  let stopping = false;
  function stop(signal: string): void {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`echo demo: ${signal}, closing every client with 1001\n`);
    echo.close().then(
      // Exit once the last line is flushed (stdout may be a slow pipe).
      () => process.stdout.write("", () => process.exit(0)),
      (error: unknown) => {
        process.stderr.write(`echo demo: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  }
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
