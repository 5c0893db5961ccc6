import type { IncomingMessage, ServerResponse } from "node:http";
import { systemClock } from "@heartline/protocol";
import { asset } from "./assets.js";
import { connectionsPage } from "./connections-page.js";
import { type DashboardOptions, resolveDashboardOptions } from "./options.js";
import { LiveSampler } from "./sampler.js";

/** What `createDashboard` returns: one request handler plus the RTT feed. */
export interface Dashboard {
  /**
   * The request handler: node:http's `(request, response)`, also Express
   * middleware (`app.use("/dashboard", dashboard.handle)`) and, through
   * `reply.hijack()`, a Fastify route. It answers every request it is given
   * (403 unless `authorize` allows it); it routes on the last path segment,
   * so it can be mounted under any prefix.
   */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => void;
  /** Feeds one RTT figure (ms) a client reported. Costs nothing while nobody watches. */
  recordRtt(ms: number): void;
  /** Whether a viewer is connected (and sampling runs). */
  readonly watching: boolean;
}

const headers = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
};

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { ...headers, "content-type": "text/plain; charset=utf-8" });
  response.end(`${text}\n`);
}

/** Creates the live operations page for one Heartline server. */
export function createDashboard(options: DashboardOptions): Dashboard {
  const resolved = resolveDashboardOptions(options, systemClock);
  const { server, authorize, clock, onError, pageSize } = resolved;
  const sampler = new LiveSampler(resolved);

  const stream = (request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      connection: "keep-alive",
    });
    response.write(`event: shape\ndata: ${JSON.stringify(sampler.shape)}\n\n`);
    const stop = sampler.watch((sample) => {
      response.write(`data: ${JSON.stringify(sample)}\n\n`);
    });
    request.socket.setTimeout(0);
    response.on("close", stop);
  };

  const table = (url: URL, response: ServerResponse): void => {
    const page = Number.parseInt(url.searchParams.get("page") ?? "0", 10);
    const body = connectionsPage(
      server.connections(),
      server.stats().open,
      Number.isFinite(page) ? page : 0,
      pageSize,
      clock.now(),
    );
    response.writeHead(200, { ...headers, "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify(body));
  };

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let allowed = false;
    try {
      allowed = (await authorize(request)) === true;
    } catch (error) {
      onError(error);
    }
    if (!allowed) return plain(response, 403, "Forbidden");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return plain(response, 405, "Method not allowed");
    }
    // Express strips the mount path from `url` and keeps it in `originalUrl`.
    const full = (request as { originalUrl?: string }).originalUrl ?? request.url ?? "/";
    const url = new URL(full, "http://dashboard.invalid");
    const name = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
    if (name === "events") return stream(request, response);
    if (name === "connections") return table(url, response);
    const file = asset(name === "index.html" ? "" : name);
    if (file === undefined) {
      // `/dashboard` without its slash: the page's relative links need one.
      // (The handler routes on the last segment, so any prefix works.)
      if (name !== "" && !name.includes(".")) {
        response.writeHead(308, { ...headers, location: `${url.pathname}/${url.search}` });
        response.end();
        return;
      }
      return plain(response, 404, "Not found");
    }
    const body = await file.body;
    response.writeHead(200, {
      ...headers,
      "content-type": `${file.type}; charset=utf-8`,
      "content-length": body.length,
    });
    response.end(request.method === "HEAD" ? undefined : body);
  };

  return {
    handle(request, response) {
      serve(request, response).catch((error: unknown) => {
        if (!response.headersSent) plain(response, 500, "Internal error");
        else response.destroy();
        onError(error);
      });
    },
    recordRtt: (ms) => sampler.recordRtt(ms),
    get watching() {
      return sampler.watching;
    },
  };
}
