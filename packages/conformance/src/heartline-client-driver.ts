// The command-protocol driver for @heartline/client: reads commands from
// stdin, drives a real client, prints its events on stdout (JSON lines).
// `heartline-conformance drive-heartline-client` runs it.
import { createInterface } from "node:readline";
import {
  type ClientOptions,
  createClient,
  type HeartlineClient,
  type WebSocketConstructor,
} from "@heartline/client";
import type { Command } from "./driven-client.js";

/** How the @heartline/client driver builds its client. */
export interface HeartlineClientDriverOptions {
  /** Passed to `createClient` (tests substitute a WebSocket, or turn a feature off). */
  readonly WebSocket?: WebSocketConstructor;
  readonly client?: Partial<Omit<ClientOptions, "url" | "on" | "WebSocket">>;
  /**
   * Optional contract rules this client implements, declared in `ready`:
   * "rate" (pacing to welcome.rate), "unauthorized" (stopping on 4401).
   */
  readonly features?: readonly string[];
}

function print(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/**
 * Speaks the command protocol on this process's stdin and stdout for a
 * real @heartline/client; exits when stdin ends.
 */
export function runHeartlineClientDriver(options: HeartlineClientDriverOptions = {}): void {
  let client: HeartlineClient | undefined;
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    let command: Command;
    try {
      command = JSON.parse(line) as Command;
    } catch {
      process.stderr.write(`driver: not JSON: ${line}\n`);
      return;
    }
    switch (command.cmd) {
      case "connect":
        client?.close();
        client = createClient({
          ...options.client,
          url: command.url,
          ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
          on: {
            open: (e) => print({ event: "open", sessionId: e.sessionId, resumed: e.resumed }),
            message: (data) => print({ event: "message", data }),
            disconnect: (e) =>
              print({ event: "disconnect", reason: e.reason, code: e.code ?? null }),
            undelivered: (e) => print({ event: "undelivered", reason: e.reason, data: e.messages }),
            reconnecting: (e) => print({ event: "reconnecting", delayMs: e.delayMs }),
          },
        });
        client.connect();
        break;
      case "send":
        if (!client?.send(command.data)) print({ event: "refused", data: command.data });
        break;
      case "close":
        client?.close();
        break;
      default:
        process.stderr.write(`driver: unknown command: ${line}\n`);
    }
  });
  lines.on("close", () => {
    client?.close();
    process.exit(0);
  });
  print({ event: "ready", features: options.features ?? [] });
}
