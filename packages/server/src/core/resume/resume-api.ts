import type { DisconnectReason } from "@heartline/protocol";

/**
 * What the `resumed` event reports, once per resumed connection, after its
 * `welcome`: the client's `resumed` event has the same name and fields
 * (`sessionId`, `gapMs`, `replayed`), each side counting what it sent again.
 */
export interface ResumedInfo {
  /** The session's id: the same as on its previous connections. */
  readonly sessionId: string;
  /**
   * Milliseconds since the previous connection's end was reported (0 for a
   * takeover: the old connection's end is reported at the resume).
   */
  readonly gapMs: number;
  /** Messages sent again after the welcome: every server message the client had not acknowledged. */
  readonly replayed: number;
  /** `welcome.resumed.ack`: the highest client message seq the server had received. */
  readonly ack: number;
}

/** @deprecated The payload of the deprecated `resume` event; listen to `resumed` (`ResumedInfo`). */
export interface ResumeInfo {
  /** The session's id: the same as on its previous connections. */
  readonly sessionId: string;
  /**
   * Milliseconds since the previous connection's end was reported (0 for a
   * takeover: the old connection's end is reported at the resume).
   */
  readonly gapMs: number;
  /** Messages sent again after the welcome: every server message the client had not acknowledged. */
  readonly replayed: { readonly toClient: number };
  /** `welcome.resumed.ack`: the highest client message seq the server had received. */
  readonly ack: number;
}

/**
 * Why a resumable session ended: its window passed (`expired`), an
 * unacknowledged buffer overflowed (`overflow`), or the disconnect reason of
 * the deliberate end that ended it (`client_closed` for a client's 1000 or
 * 1005, `server_closed` for the application's `conn.close()`,
 * `protocol_error`, `rate_limited`), or `evicted`: it was waiting for its
 * client and gave way (its address or client was over its bound of waiting
 * sessions, or the table was full and the eviction rule chose it).
 */
export type SessionEndReason = "expired" | "overflow" | "evicted" | DisconnectReason;

/** What the `sessionEnd` event reports, exactly once per resumable session. */
export interface SessionEndInfo<TServer = unknown, TAuth = unknown> {
  readonly sessionId: string;
  readonly reason: SessionEndReason;
  /**
   * The data of every message the server still held unacknowledged, in
   * order: accepted by `send`/`broadcast` and never acknowledged, so not
   * known to be delivered (some may have arrived just before the end).
   */
  readonly undelivered: readonly TServer[];
  /** What `authenticate` returned for the connection that created the session. */
  readonly auth: TAuth;
  /** Clock time of the end. */
  readonly at: number;
}

/** Resumable session counts in `stats()`; all zero with resumption off. */
export interface SessionStats {
  /** Sessions held by an open connection. */
  readonly live: number;
  /** Sessions in their window, waiting for a resume. */
  readonly detached: number;
  /** Successful resumes since start. */
  readonly resumed: number;
  /** Sessions ended since start (each reported once on `sessionEnd`). */
  readonly ended: number;
  /** Of those, sessions evicted while waiting for their client (reason `evicted`). */
  readonly evicted: number;
  /** Clients that offered resumption and were served plain v1: the table was full of live sessions. */
  readonly refused: number;
}

/** The resume offer admission found in the upgrade (`Admission.resume`); adapters pass it to `accept`. */
export interface ResumeOffer {
  /** The token of the session to resume, as offered (maybe malformed); undefined for a new session. */
  readonly token: string | undefined;
  /**
   * The session the store opened for this upgrade at admission (opaque to
   * adapters: passed to `accept` as it is, or given back with
   * `abandon(admission)` if the upgrade never gets there). Absent when the
   * offer was not run through `admit` (then `accept` opens it).
   */
  readonly opened?: unknown;
}

/**
 * What the `sessionMoved` event reports: a session hosted here left this
 * process (resumed on another, or this process's writes for it were
 * fenced). Not an end: the session goes on elsewhere.
 */
export interface SessionMovedInfo<TServer = unknown> {
  readonly sessionId: string;
  /** What this process accepted for it but never recorded: not delivered by anyone (the sender's report). */
  readonly undelivered: readonly TServer[];
}

/** What the `sessionAdopted` event reports: a lost process's session now waits here for its client. */
export interface SessionAdoptedInfo<TAuth = unknown> {
  readonly sessionId: string;
  /** The session's `auth`. */
  readonly auth: TAuth;
  /** The lost process's `nodeId`. */
  readonly from: string;
}
