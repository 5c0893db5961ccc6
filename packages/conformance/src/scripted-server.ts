// The client side's server: a plain `ws` server on loopback, port 0, that
// speaks no protocol by itself. Each case scripts it: it sees every
// connection (with the subprotocols offered) as a Probe and writes frames.
import type { AddressInfo } from "node:net";
import { SUBPROTOCOL } from "@heartline/protocol";
import { WebSocketServer } from "ws";
import { Violation } from "./report.js";
import { now, Probe } from "./wire.js";

/** One connection from the client under test. */
export interface Accepted {
  readonly probe: Probe;
  /** The subprotocols the client offered, in its order. */
  readonly offered: readonly string[];
  readonly at: number;
}

export class ScriptedServer {
  readonly accepted: Accepted[] = [];
  private readonly waiters = new Set<() => void>();
  /** Answer every ping with a pong (on by default; a case turns it off to play a dead server). */
  autoPong = true;

  private constructor(private readonly wss: WebSocketServer) {
    wss.on("connection", (socket, request) => {
      const offered = (request.headers["sec-websocket-protocol"] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      const probe = new Probe(socket);
      socket.on("message", (data: Buffer, isBinary: boolean) => {
        if (!this.autoPong || isBinary) return;
        try {
          const frame = JSON.parse(data.toString("utf8")) as { type?: unknown; seq?: unknown };
          if (frame.type === "ping") socket.send(JSON.stringify({ type: "pong", seq: frame.seq }));
        } catch {
          // The case sees the frame in probe.frames and judges it.
        }
      });
      this.accepted.push({ probe, offered, at: now() });
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  static async start(): Promise<ScriptedServer> {
    const wss = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      path: "/ws",
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
    return new ScriptedServer(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws`;
  }

  /** Connection number `index` (0 is the first), waiting up to `timeoutMs` for it. */
  async connection(index: number, timeoutMs: number): Promise<Accepted> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const found = this.accepted[index];
      if (found) return found;
      const left = deadline - now();
      if (left <= 0) {
        throw new Violation(
          `expected connection ${index + 1} within ${timeoutMs} ms; the client made ${this.accepted.length}`,
        );
      }
      await new Promise<void>((resolve) => {
        const waiters = this.waiters;
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  async close(): Promise<void> {
    for (const { probe } of this.accepted) probe.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
