// `pnpm demo` runs this (after building the page bundle): the echo server,
// configured from the environment. stdout carries exactly one JSON line per
// connect, per disconnect, per resumed connection, per ended resumable
// session and per refused upgrade, so it can be piped into a log tool;
// everything else goes to stderr.
import { startEchoServer } from "./echo-server.js";
import { EchoSettingsError, settingsFromEnv } from "./settings.js";

function line(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

let settings: ReturnType<typeof settingsFromEnv>;
try {
  settings = settingsFromEnv(process.env);
} catch (error) {
  if (!(error instanceof EchoSettingsError)) throw error;
  process.stderr.write(`echo demo: ${error.message}\n`);
  process.exit(2);
}

const echo = await startEchoServer({
  ...settings,
  on: { connect: line, disconnect: line, resume: line, sessionEnd: line, rejected: line },
}).catch((error: NodeJS.ErrnoException) => {
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
    `ping every ${settings.intervalMs} ms, timeout ${2 * settings.intervalMs} ms). Ctrl+C stops it.\n`,
);

// Shutdown: new upgrades are refused 503 for DRAIN_MS (clients stay, /readyz
// answers 503 so a balancer stops routing here), then every client gets
// `goodbye` and close 1001 (and is printed as a disconnect line), then exit 0.
// A second signal while closing changes nothing.
let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  process.stderr.write(
    settings.drainMs > 0
      ? `echo demo: ${signal}, draining for ${settings.drainMs} ms, then closing every client with 1001\n`
      : `echo demo: ${signal}, closing every client with 1001\n`,
  );
  echo.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`echo demo: shutdown failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

// Started by scripts/demo.mjs with an IPC channel: if that process dies
// without passing a signal on (SIGKILL), the channel closes and the server
// stops as on SIGTERM rather than living on as an orphan. The channel must
// not keep the process alive by itself.
if (process.channel !== undefined) {
  process.channel.unref();
  process.once("disconnect", () => stop("SIGTERM"));
}
