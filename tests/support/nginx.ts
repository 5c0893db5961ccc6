// Debian's nginx in front of a test server, with the configuration the
// server README documents ("Behind a reverse proxy"): read from the README
// itself, so what is tested is what is published. Each nginx runs in the
// foreground (`daemon off`) with its own prefix in a temp folder, on a
// loopback port it binds itself (a taken port just means trying another).
// Outside CI a missing nginx skips the tests and says so; under CI=true it
// must be there (.ci/run installs nginx-light).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const candidates = [process.env.NGINX_PATH, "/usr/sbin/nginx", "/usr/bin/nginx"].filter(
  (p): p is string => typeof p === "string" && p.length > 0,
);

/** The nginx executable, or undefined when none is installed. */
export const nginxPath: string | undefined = candidates.find((p) => existsSync(p));

export const skipNginxTests: boolean = nginxPath === undefined && process.env.CI !== "true";

if (nginxPath === undefined) {
  const message =
    "No nginx found (tried NGINX_PATH, /usr/sbin/nginx): install it with `apt-get install -y nginx-light`.";
  if (process.env.CI === "true") throw new Error(`${message} CI=true requires the proxy tests.`);
  console.warn(`${message} The reverse-proxy tests are skipped.`);
}

const readme = fileURLToPath(new URL("../../packages/server/README.md", import.meta.url));
const MARKER = "<!-- nginx: tested configuration -->";

/** The README's nginx configuration, verbatim (the block after its marker). */
export function readmeNginxConfig(): string {
  const text = readFileSync(readme, "utf8");
  const at = text.indexOf(MARKER);
  if (at === -1) throw new Error(`${MARKER} is missing from packages/server/README.md`);
  const block = /```nginx\n([\s\S]*?)```/.exec(text.slice(at));
  if (block === null) throw new Error("no ```nginx block after the marker");
  return block[1]!;
}

/** Replaces `from` with `to`, which must be there: the README changing under a test fails it. */
export function replaceIn(config: string, from: string, to: string): string {
  if (!config.includes(from)) throw new Error(`the README's nginx configuration has no "${from}"`);
  return config.split(from).join(to);
}

export interface Nginx {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** What nginx wrote to its error log so far. */
  errors(): string;
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      // A connect to a port nobody listens on can succeed by meeting itself
      // (TCP simultaneous open, when the kernel picks the same port as the
      // source): that is not nginx.
      const self = socket.localPort === port;
      socket.destroy();
      resolve(!self);
    });
    socket.once("error", () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts nginx with the README's configuration in front of 127.0.0.1:`upstreamPort`.
 * `edit` may change the server block further (a shorter timeout…), through `replaceIn`.
 */
export async function startNginx(
  upstreamPort: number,
  edit: (config: string) => string = (c) => c,
): Promise<Nginx> {
  if (nginxPath === undefined) throw new Error("no nginx to start");
  const prefix = mkdtempSync(join(tmpdir(), "heartline-nginx-"));
  mkdirSync(join(prefix, "logs"));
  mkdirSync(join(prefix, "tmp"));
  const errorLog = join(prefix, "logs", "error.log");
  for (let attempt = 0; attempt < 20; attempt++) {
    // Below Linux's ephemeral range (32768–60999), so no outgoing socket of
    // this machine holds it, and a probe cannot connect to itself.
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    let server = replaceIn(
      readmeNginxConfig(),
      "listen 127.0.0.1:8081;",
      `listen 127.0.0.1:${port};`,
    );
    server = replaceIn(server, "http://127.0.0.1:5000;", `http://127.0.0.1:${upstreamPort};`);
    server = edit(server);
    const temp = join(prefix, "tmp");
    writeFileSync(
      join(prefix, "nginx.conf"),
      [
        // As root the workers would drop to `nobody`, who cannot use this temp prefix.
        process.getuid?.() === 0 ? "user root;" : "",
        "worker_processes 1;",
        `error_log ${errorLog} info;`,
        `pid ${join(prefix, "nginx.pid")};`,
        "events { worker_connections 512; }",
        "http {",
        "  access_log off;",
        `  client_body_temp_path ${temp}/body; proxy_temp_path ${temp}/proxy;`,
        `  fastcgi_temp_path ${temp}/fastcgi; uwsgi_temp_path ${temp}/uwsgi; scgi_temp_path ${temp}/scgi;`,
        server,
        "}",
      ].join("\n"),
    );
    const child = spawn(
      nginxPath,
      ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-g", "daemon off;"],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const started = Date.now();
    let up = false;
    while (Date.now() - started < 5000 && child.exitCode === null) {
      if (await listening(port)) {
        up = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (up) {
      return {
        port,
        origin: `http://127.0.0.1:${port}`,
        errors: () => (existsSync(errorLog) ? readFileSync(errorLog, "utf8") : ""),
        async stop() {
          child.kill("SIGTERM"); // fast shutdown: a graceful one would wait for every upgraded socket
          const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
          await exited(child);
          clearTimeout(timer);
          rmSync(prefix, { recursive: true, force: true });
        },
      };
    }
    child.kill("SIGKILL");
    await exited(child);
    const log = existsSync(errorLog) ? readFileSync(errorLog, "utf8") : "";
    if (!/Address already in use/.test(stderr + log)) {
      rmSync(prefix, { recursive: true, force: true });
      throw new Error(`nginx did not start:\n${stderr}\n${log}`);
    }
  }
  rmSync(prefix, { recursive: true, force: true });
  throw new Error("nginx found no free port in 20 attempts");
}
