// A test double of a shared session store: the in-process store underneath,
// but what a connection journals is recorded only when the test says
// (`flush`), as a store that writes in batches would; `open` may answer
// later (`gate`) or find the store unreachable (`available`). The test
// also holds the hooks, to play what another process would cause.
import type {
  OpenResult,
  SessionOwner,
  SessionStore,
  SessionStoreCounts,
  SessionStoreHooks,
  StoredEndCause,
  StoredSession,
  StoredSessionState,
  UnackedBuffer,
} from "../../src/index.js";
import { createMemorySessionStore } from "../../src/index.js";

/** A session whose journal is recorded on `flush`, not at once. */
export class LaggingSession implements StoredSession<unknown, unknown> {
  recordedIn = 0;
  recordedOut = 0;
  /** What the connection told, not recorded yet. */
  toldIn = 0;
  toldOut = 0;
  onRecorded: (() => void) | undefined = undefined;

  constructor(readonly inner: StoredSession<unknown, unknown>) {
    this.recordedIn = inner.receivedSeq;
    this.recordedOut = inner.unacked.lastSeq;
    this.toldIn = this.recordedIn;
    this.toldOut = this.recordedOut;
  }

  get sessionId(): string {
    return this.inner.sessionId;
  }
  get auth(): unknown {
    return this.inner.auth;
  }
  get unacked(): UnackedBuffer<unknown> {
    return this.inner.unacked;
  }
  get receivedSeq(): number {
    return this.inner.receivedSeq;
  }
  set receivedSeq(seq: number) {
    this.inner.receivedSeq = seq;
  }
  get owner(): SessionOwner | undefined {
    return this.inner.owner;
  }
  get state(): StoredSessionState {
    return this.inner.state;
  }
  tokenProven(): void {
    this.inner.tokenProven();
  }
  received(seq: number): void {
    this.toldIn = seq;
  }
  sent(seq: number): void {
    this.toldOut = seq;
  }
  acked(): void {}

  /** The store's batch was written: everything told is recorded (or up to the marks given). */
  flush(inUpTo = this.toldIn, outUpTo = this.toldOut): void {
    this.recordedIn = inUpTo;
    this.recordedOut = outUpTo;
    this.onRecorded?.();
  }
}

export class LaggingStore implements SessionStore<unknown, unknown> {
  readonly nodeId = "node-a";
  readonly durable = true;
  available = true;
  /** When set, `open` answers only once the test calls `release()` on it. */
  gate: { promise: Promise<void>; open(): void } | undefined;
  hooks!: SessionStoreHooks<unknown, unknown>;
  readonly inner = createMemorySessionStore<unknown, unknown>({ nodeId: "node-a" });
  readonly sessions = new Map<StoredSession<unknown, unknown>, LaggingSession>();
  readonly calls: string[] = [];
  /** Session ids the test says moved to another process (no longer hosted here). */
  readonly gone = new Set<string>();

  start(hooks: SessionStoreHooks<unknown, unknown>): void {
    this.hooks = hooks;
    this.inner.start({
      ...hooks,
      onEnd: (end) => {
        this.calls.push(`end:${end.sessionId}:${end.reason}`);
        hooks.onEnd(end);
      },
    });
  }

  /** From now on `open` waits for the test. */
  hold(): void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gate = { promise, open };
  }

  wrap(inner: StoredSession<unknown, unknown>): LaggingSession {
    let session = this.sessions.get(inner);
    if (session === undefined) {
      session = new LaggingSession(inner);
      this.sessions.set(inner, session);
    }
    return session;
  }

  #open(
    token: string | undefined,
    auth: unknown,
    owner: SessionOwner,
    address: string | undefined,
    newSessionId: () => string,
  ): OpenResult<unknown, unknown> {
    if (!this.available) return token === undefined ? { kind: "plain" } : { kind: "unavailable" };
    const result = this.inner.open(token, auth, owner, address, newSessionId) as OpenResult<
      unknown,
      unknown
    >;
    if (result.kind === "created" || result.kind === "resumed") {
      return { ...result, session: this.wrap(result.session) };
    }
    return result;
  }

  open(
    token: string | undefined,
    auth: unknown,
    owner: SessionOwner,
    address: string | undefined,
    newSessionId: () => string,
  ): OpenResult<unknown, unknown> | Promise<OpenResult<unknown, unknown>> {
    this.calls.push(`open:${token === undefined ? "new" : "token"}`);
    const gate = this.gate;
    if (gate === undefined) return this.#open(token, auth, owner, address, newSessionId);
    return gate.promise.then(() => this.#open(token, auth, owner, address, newSessionId));
  }

  release(session: StoredSession<unknown, unknown>, owner: SessionOwner): void {
    this.calls.push(`release:${session.sessionId}`);
    this.inner.release((session as LaggingSession).inner, owner);
  }

  detach(session: StoredSession<unknown, unknown>, owner: SessionOwner): boolean {
    this.calls.push(`detach:${session.sessionId}`);
    return this.inner.detach((session as LaggingSession).inner, owner) as boolean;
  }

  end(
    session: StoredSession<unknown, unknown>,
    reason: StoredEndCause,
    owner?: SessionOwner,
  ): boolean {
    return this.inner.end((session as LaggingSession).inner, reason, owner) as boolean;
  }

  *waiting(): Iterable<StoredSession<unknown, unknown>> {
    for (const session of this.inner.waiting()) {
      if (!this.gone.has(session.sessionId)) yield this.wrap(session);
    }
  }

  hosted(sessionId: string): StoredSession<unknown, unknown> | undefined {
    if (this.gone.has(sessionId)) return undefined;
    const inner = this.inner.hosted(sessionId);
    return inner === undefined ? undefined : this.wrap(inner);
  }

  /** When set, `shutdown` resolves with it (the test decides when the hand-over is done). */
  shutdownDone: Promise<void> | undefined;

  async shutdown(): Promise<void> {
    this.calls.push("shutdown");
    await this.shutdownDone;
  }

  counts(): SessionStoreCounts {
    return this.inner.counts();
  }
}
