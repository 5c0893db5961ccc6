import type { WebSocketLike } from "@heartline/client";
import { WebSocket } from "ws";
import type { Gate } from "../clocks.js";
import { frameType, type TimelineRecorder } from "../timeline.js";

export interface LoopbackSocketEnv {
  readonly url: string;
  /** The upgrade's `Origin` header; none when undefined. */
  readonly origin: string | undefined;
  readonly name: string;
  readonly gate: Gate;
  readonly timeline: TimelineRecorder;
  readonly onActivity: () => void;
}

/**
 * The client's socket over loopback: a real `ws` WebSocket (to the link's
 * proxy), whose events reach the client through the page's gate and are
 * recorded in the timeline. Frames to the server are recorded when sent
 * (the server's side is a real server: its reads are not observable here).
 */
export class LoopbackSocket implements WebSocketLike {
  // biome-ignore lint/suspicious/noExplicitAny: WebSocketLike's event parameters (DOM and ws differ).
  onopen: ((event: any) => void) | null = null;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  onmessage: ((event: any) => void) | null = null;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  onerror: ((event: any) => void) | null = null;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  onclose: ((event: any) => void) | null = null;
  readonly #ws: WebSocket;
  readonly #env: LoopbackSocketEnv;

  constructor(protocols: string | string[] | undefined, env: LoopbackSocketEnv) {
    this.#env = env;
    const ws = new WebSocket(
      env.url,
      protocols,
      env.origin === undefined ? undefined : { origin: env.origin },
    );
    this.#ws = ws;
    const { gate, timeline, name, onActivity } = env;
    ws.on("open", () => {
      onActivity();
      timeline.add({ kind: "link", client: name, what: `← server open (${ws.protocol})` });
      gate.run(() => this.onopen?.({ type: "open" }));
    });
    ws.on("message", (data, isBinary) => {
      onActivity();
      const payload = isBinary ? data : data.toString();
      if (typeof payload === "string") {
        timeline.add({
          kind: "frame",
          client: name,
          direction: "toClient",
          type: frameType(payload).type,
          text: payload,
          dropped: false,
        });
      }
      gate.run(() => this.onmessage?.({ type: "message", data: payload }));
    });
    ws.on("error", (error) => {
      onActivity();
      gate.run(() => this.onerror?.(error));
    });
    ws.on("close", (code, reason) => {
      onActivity();
      timeline.add({
        kind: "link",
        client: name,
        what: code === 1006 ? "socket ended (no close frame)" : `← server close ${code} ${reason}`,
      });
      gate.run(() => this.onclose?.({ type: "close", code, reason: reason.toString() }));
    });
  }

  get readyState(): number {
    return this.#ws.readyState;
  }

  get protocol(): string {
    return this.#ws.protocol;
  }

  send(data: string): void {
    this.#env.timeline.add({
      kind: "frame",
      client: this.#env.name,
      direction: "toServer",
      type: frameType(data).type,
      text: data,
      dropped: false,
    });
    this.#ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }
}
