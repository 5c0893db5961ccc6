// A resumable-session core on the fake clock, with fake transports: no network.
import type { WelcomeMessage } from "@heartline/protocol";
import {
  type Connection,
  createServerCore,
  type DisconnectInfo,
  type ResumeInfo,
  type ResumeOptions,
  type ServerCoreOptions,
  type SessionEndInfo,
  type TransportSink,
} from "../../src/core/index.js";
import { FakeTransport } from "../fake-transport.js";
import { fakeClock } from "../helpers.js";

/** One client connection as the test drives it: its transport (what the server sent) and its sink. */
export class Peer {
  constructor(
    readonly transport: FakeTransport,
    readonly sink: TransportSink,
  ) {}

  get welcome(): WelcomeMessage {
    return this.transport.sent[0] as WelcomeMessage;
  }

  /** The token for this session's next resume. */
  get token(): string {
    const token = this.welcome.resume?.token;
    if (token === undefined) throw new Error("welcome has no resume token");
    return token;
  }

  /** Server → client application messages, as `[seq, data]`. */
  messages(): [number | undefined, unknown][] {
    return this.transport.sent
      .filter((m) => (m as { type: string }).type === "message")
      .map((m) => [(m as { seq?: number }).seq, (m as { data: unknown }).data]);
  }

  /** The seqs of the server's acks, in order. */
  acks(): number[] {
    return this.transport.sent
      .filter((m) => (m as { type: string }).type === "ack")
      .map((m) => (m as { seq: number }).seq);
  }

  send(seq: number | undefined, data: unknown): void {
    this.sink.receive(
      JSON.stringify(
        seq === undefined ? { type: "message", data } : { type: "message", seq, data },
      ),
    );
  }

  ack(seq: number): void {
    this.sink.receive(JSON.stringify({ type: "ack", seq }));
  }

  ping(seq = 0): void {
    this.sink.receive(`{"type":"ping","seq":${seq}}`);
  }

  /** The link died without a close frame. */
  lose(): void {
    this.sink.closed(1006, false);
  }

  /** The client closed with `code`. */
  closeWith(code: number): void {
    this.sink.closed(code, true);
  }
}

export const WINDOW = 10_000;
export const INTERVAL = 1000;

export function resumeSetup<TAuth = unknown>(
  resume: ResumeOptions<TAuth> | false = {},
  options: ServerCoreOptions<unknown, unknown, TAuth> = {},
) {
  const { fc, clock } = fakeClock();
  let ids = 0;
  const core = createServerCore<unknown, unknown, TAuth>({
    clock,
    intervalMs: INTERVAL,
    rateLimit: false,
    generateSessionId: () => `s${++ids}`,
    resume: resume === false ? false : { windowMs: WINDOW, ...resume },
    ...options,
  });
  const disconnects: DisconnectInfo<TAuth>[] = [];
  const resumes: ResumeInfo[] = [];
  const sessionEnds: SessionEndInfo<unknown, TAuth>[] = [];
  const received: { conn: Connection<unknown, TAuth>; data: unknown }[] = [];
  const errors: string[] = [];
  /** Every event in order, one short line each. */
  const log: string[] = [];
  core.on("connection", (conn) => log.push(`connection:${conn.sessionId}`));
  core.on("disconnect", (info) => {
    disconnects.push(info);
    log.push(`disconnect:${info.sessionId}:${info.reason}:${info.resumable}`);
  });
  core.on("resume", (info) => {
    resumes.push(info);
    log.push(`resume:${info.sessionId}`);
  });
  core.on("sessionEnd", (info) => {
    sessionEnds.push(info);
    log.push(`sessionEnd:${info.sessionId}:${info.reason}`);
  });
  core.on("message", (conn, data) => {
    received.push({ conn, data });
    log.push(`message:${conn.sessionId}:${JSON.stringify(data)}`);
  });
  core.on("error", (e) => errors.push(e.code));
  /**
   * A connection; `offer` as admission would pass it (`{}` = `heartline.resume`,
   * `{ token }` = resume), from `remoteAddress` (none by default).
   */
  const open = (offer?: { token?: string }, auth?: TAuth, remoteAddress?: string): Peer => {
    const transport = new FakeTransport();
    const sink = core.accept(transport, {
      auth: auth as TAuth,
      remoteAddress,
      resume: offer === undefined ? undefined : { token: offer.token },
    });
    return new Peer(transport, sink);
  };
  const conns = () => [...core.connections()];
  return { fc, clock, core, open, conns, disconnects, resumes, sessionEnds, received, errors, log };
}
