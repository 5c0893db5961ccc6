import {
  CloseCode,
  DisconnectReason,
  encodeMessageFrame,
  type StandardSchemaV1,
  validateData,
} from "@heartline/protocol";
import type { Connection, ConnectionState } from "../connection-api.js";
import type { TrafficCounters } from "../connection-host.js";
import { HeartlineError, ServerErrorCode } from "../errors.js";
import type { SessionOwner, StoredEndCause, StoredSession } from "./store-api.js";

/** What a handle needs from the connection that holds its session. */
export interface HandleOwner<TServer> {
  readonly isOpen: boolean;
  readonly remoteAddress: string | undefined;
  readonly connectedAt: number;
  readonly lastHeardAt: number;
  sendNumbered(data: TServer, dataJson: string): boolean;
  close(code?: number, reason?: string): void;
}

/** What a handle needs from the server. */
export interface HandleHost<TServer, TOwner> {
  readonly serverSchema: StandardSchemaV1<unknown, TServer> | undefined;
  readonly counters: TrafficCounters;
  /** Ends the session now (reported once on `sessionEnd`). */
  // biome-ignore lint/suspicious/noExplicitAny: any session's auth
  endSession(session: StoredSession<TServer, any>, reason: StoredEndCause): void;
  /** The connection of this process an owner names (undefined: none here, or none at all). */
  connectionOf(owner: SessionOwner | undefined): TOwner | undefined;
}

/** The close codes an application may send (as `Connection.close` checks them). */
function checkClose(code: number): void {
  if (!(code === CloseCode.Normal || (code >= 3000 && code <= 4999 && Number.isInteger(code)))) {
    throw new HeartlineError(
      ServerErrorCode.InvalidCloseCode,
      `close code ${code} is not one an application may send (1000 or 3000–4999)`,
    );
  }
}

/**
 * A resumable session as the application holds it (PROTOCOL.md, "Between
 * connections"): one object for the session's whole life, whichever
 * connection carries it. While a connection holds the session it forwards
 * to it; while the session waits for its client, `send` still accepts: the
 * message is numbered and kept in the session's unacknowledged buffer (the
 * same bounds), replayed when the client resumes, and reported undelivered
 * if the session ends first. `hl.session(id)` returns it; `broadcast`
 * reaches waiting sessions through it; a connection's own `send` after its
 * end forwards here.
 *
 * It keeps no connection once its session waits (only a few numbers copied
 * from the last one), so a table of waiting sessions holds no sockets.
 */
export class SessionHandle<TServer, TAuth, TOwner extends HandleOwner<TServer>>
  implements Connection<TServer, TAuth>
{
  readonly #session: StoredSession<TServer, TAuth>;
  readonly #host: HandleHost<TServer, TOwner>;
  // The last connection's figures, copied when it ended (`detached`).
  #remoteAddress: string | undefined;
  #connectedAt: number;
  #lastHeardAt: number;

  /**
   * `first` is the connection that opened the session here; none for a
   * session adopted from a lost process (its figures start at `now`).
   */
  constructor(
    session: StoredSession<TServer, TAuth>,
    host: HandleHost<TServer, TOwner>,
    first: TOwner | undefined,
    now = 0,
  ) {
    this.#session = session;
    this.#host = host;
    this.#remoteAddress = first?.remoteAddress;
    this.#connectedAt = first?.connectedAt ?? now;
    this.#lastHeardAt = first?.lastHeardAt ?? now;
  }

  /** The connection of this process carrying the session now, if any. */
  get connection(): TOwner | undefined {
    return this.#host.connectionOf(this.#session.owner);
  }

  get sessionId(): string {
    return this.#session.sessionId;
  }

  get auth(): TAuth {
    return this.#session.auth;
  }

  /** A handle is always a resumable session's. */
  get resumable(): boolean {
    return true;
  }

  get state(): ConnectionState {
    const state = this.#session.state;
    return state === "ended" ? "ended" : state === "detached" ? "waiting" : "live";
  }

  /** True while a connection carries the session (false while it waits, and once ended). */
  get isOpen(): boolean {
    return this.connection?.isOpen ?? false;
  }

  /** The current connection's address, or the last one's while the session waits. */
  get remoteAddress(): string | undefined {
    return this.connection?.remoteAddress ?? this.#remoteAddress;
  }

  get connectedAt(): number {
    return this.connection?.connectedAt ?? this.#connectedAt;
  }

  get lastHeardAt(): number {
    return this.connection?.lastHeardAt ?? this.#lastHeardAt;
  }

  /** @deprecated `lastHeardAt`. */
  get lastSeenAt(): number {
    return this.lastHeardAt;
  }

  /** The session's connection `owner` ended and the session waits: its figures are kept. */
  detached(owner: TOwner): void {
    this.#remoteAddress = owner.remoteAddress;
    this.#connectedAt = owner.connectedAt;
    this.#lastHeardAt = owner.lastHeardAt;
  }

  /**
   * Validated against the server schema (throws `invalid_payload`), then
   * `deliver`. True when the session took the message: written to its
   * connection, or kept for its client while it waits. False once the
   * session ended, or when its buffer is full (the session then ends,
   * `overflow`, reported with every message it held).
   */
  send(data: TServer): boolean {
    const valid = validateData(this.#host.serverSchema, data);
    if (!valid.ok) {
      throw new HeartlineError(ServerErrorCode.InvalidPayload, `invalid payload: ${valid.message}`);
    }
    return this.deliver(data, JSON.stringify(data));
  }

  /** `send` for data already validated (`dataJson` its JSON, shared by a broadcast). */
  deliver(data: TServer, dataJson: string): boolean {
    const session = this.#session;
    const owner = this.connection;
    if (owner?.isOpen === true) return owner.sendNumbered(data, dataJson);
    if (session.state === "ended") return false;
    // Waiting for its client (or its connection's end just decided, or its
    // resume not accepted yet): numbered and kept for the replay.
    const unacked = session.unacked;
    const seq = unacked.nextSeq;
    if (unacked.push(data, encodeMessageFrame(dataJson, seq)) === "full") {
      this.#host.endSession(session, "overflow");
      return false;
    }
    session.sent(seq);
    this.#host.counters.messagesOut++;
    return true;
  }

  /**
   * Ends the session on purpose: with a connection, closes it (`code`,
   * default 1000; a deliberate end, so the session ends with it); while
   * waiting, ends it now, reported `server_closed` with its undelivered
   * messages. A no-op once ended.
   */
  close(code: number = CloseCode.Normal, reason: string = DisconnectReason.ServerClosed): void {
    checkClose(code);
    const session = this.#session;
    const owner = this.connection;
    if (owner?.isOpen === true) owner.close(code, reason);
    else if (session.state !== "ended") {
      this.#host.endSession(session, DisconnectReason.ServerClosed);
    }
  }
}
