import type { UpgradeRequest } from "./admission-api.js";

/** A refused upgrade's request: its headers and URL, and the socket's peer (a proxy's address behind one). */
export interface RejectedRequest extends UpgradeRequest {
  readonly remoteAddress: string | undefined;
}

import type { Connection, DisconnectInfo } from "./connection-api.js";
import type { HeartlineError } from "./errors.js";
import type {
  ResumedInfo,
  ResumeInfo,
  SessionAdoptedInfo,
  SessionEndInfo,
  SessionMovedInfo,
} from "./resume/resume-api.js";
import type { UpgradeRejection } from "./upgrade-rejection.js";

/** What each server event hands its listeners. */
export interface ServerListeners<TClient = unknown, TServer = unknown, TAuth = unknown> {
  /** A client completed the upgrade and was sent `welcome`. `request` is not kept afterwards. */
  connection: (conn: Connection<TServer, TAuth>, request: UpgradeRequest | undefined) => void;
  /**
   * An application message whose `data` passed the protocol's client
   * schema. `seq` is its seq on a resumable session (undefined on plain
   * v1): each seq is delivered once per session, except across the loss of
   * a server process, where a message received but not yet recorded may
   * come again with the same seq (README, "At least once, once").
   */
  message: (conn: Connection<TServer, TAuth>, data: TClient, seq: number | undefined) => void;
  /** Exactly once per connection. */
  disconnect: (info: DisconnectInfo<TAuth>, conn: Connection<TServer, TAuth>) => void;
  /**
   * A connection resumed a session (resumption on): once per resumed
   * connection, after its `welcome`, the replay and its `connection` event.
   * The client's event of the same name reports its side.
   */
  resumed: (info: ResumedInfo, conn: Connection<TServer, TAuth>) => void;
  /**
   * @deprecated `resumed` (`replayed` is a number there). Still emitted,
   * right after `resumed`, with `replayed: { toClient }`.
   */
  resume: (info: ResumeInfo, conn: Connection<TServer, TAuth>) => void;
  /**
   * A resumable session ended, exactly once per session: its window passed,
   * it overflowed, or a deliberate end ended it; with the data the server
   * could not deliver (after the `disconnect` of the connection whose end ended it).
   */
  sessionEnd: (info: SessionEndInfo<TServer, TAuth>) => void;
  /**
   * A session hosted here left this process (resumed on another, or this
   * process's writes for it were refused because another holds it now).
   * Not its end: no `sessionEnd` follows here. `undelivered` is what this
   * process accepted for it but never recorded. Only with a shared store.
   */
  sessionMoved: (info: SessionMovedInfo<TServer>) => void;
  /**
   * This process adopted the session of a lost process (`from`): it waits
   * here for its client, reached by `broadcast` and `session(id)`, and ends
   * here if its window passes. Only with a shared store.
   */
  sessionAdopted: (info: SessionAdoptedInfo<TAuth>) => void;
  /** Something went wrong that did not crash the server (a listener threw, authenticate threw…). */
  error: (error: HeartlineError, conn: Connection<TServer, TAuth> | undefined) => void;
  /**
   * An upgrade was refused with an HTTP status; once per refused request.
   * `request` (its headers and URL, e.g. `Origin`, for a log line) when the
   * refusal came from the checks; not kept afterwards.
   */
  upgradeRejected: (rejection: UpgradeRejection, request: RejectedRequest | undefined) => void;
}

/** The name of a server event, as `on(event, listener)` takes it. */
export type ServerEventName = keyof ServerListeners;

/** Every server event (a record, so an event added to `ServerListeners` must be added here too: it does not compile otherwise). */
const EVENTS: Readonly<Record<ServerEventName, true>> = {
  connection: true,
  message: true,
  disconnect: true,
  resumed: true,
  resume: true,
  sessionEnd: true,
  sessionMoved: true,
  sessionAdopted: true,
  error: true,
  upgradeRejected: true,
};

/** Every server event's name, for checking the `on` option at creation. */
export const SERVER_EVENTS: readonly ServerEventName[] = Object.freeze(
  Object.keys(EVENTS) as ServerEventName[],
);
