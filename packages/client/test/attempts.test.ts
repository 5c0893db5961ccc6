// What each attempt is made of, and when one is not made: credentials and
// url per attempt, the charset check, the connect() microtask (React
// StrictMode), close() while waiting, 401/4401, HTTP refusals where the
// runtime shows them, Retry-After, and offline.
import { describe, expect, it } from "vitest";
import { FakeSocket, microtask, setup } from "./support/fakes.js";

const terms = { intervalMs: 1000, timeoutMs: 2000 };

describe("connect() opens its socket on a microtask", () => {
  it("opens nothing when close() comes in the same tick, and one socket for mount, unmount, mount", async () => {
    const t = setup();
    t.client.connect();
    t.client.close();
    await microtask();
    expect(t.sockets).toHaveLength(0);
    expect(t.events.disconnect).toEqual([
      { reason: "client_closed", code: 1000, willReconnect: false, willResume: false },
    ]);
    // StrictMode: effect, cleanup, effect, all in one tick.
    t.client.connect();
    t.client.close();
    t.client.connect();
    await microtask();
    expect(t.sockets).toHaveLength(1);
    // A credentials function is not asked for the attempt cancelled in the same tick.
    let calls = 0;
    const u = setup({ credentials: () => `t${++calls}` });
    u.client.connect();
    u.client.close();
    u.client.connect();
    await microtask();
    expect(calls).toBe(1);
    expect(u.sockets).toHaveLength(1);
    expect(t.client.state).toBe("connecting");
  });
});

describe("close() while no socket is open", () => {
  it("during the backoff wait reports a disconnect (client_closed), so a UI stops showing the drop", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.socket.drop();
    expect(t.client.getSnapshot()).toMatchObject({
      state: "reconnecting",
      reason: "connection_lost",
    });
    t.client.close();
    expect(t.events.disconnect.at(-1)).toEqual({
      reason: "client_closed",
      code: 1000,
      willReconnect: false,
      willResume: false,
    });
    expect(t.client.getSnapshot()).toMatchObject({
      state: "closed",
      reason: "client_closed",
      willReconnect: false,
      retryAt: undefined,
    });
    await t.fc.tickAsync(60_000);
    expect(t.sockets).toHaveLength(1);
  });
});

describe("close() from a disconnect listener", () => {
  it("stops the retry without a second report: one disconnect for the connection, then closed", async () => {
    const t = setup();
    t.client.on("disconnect", () => t.client.close());
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    // Silence past timeoutMs: the client's own verdict, worth a retry, stopped by the listener.
    await t.fc.tickAsync(terms.timeoutMs);
    expect(t.events.disconnect).toHaveLength(1);
    expect(t.events.disconnect[0]).toMatchObject({ reason: "timeout", willReconnect: true });
    expect(t.client.state).toBe("closed");
    await t.fc.tickAsync(60_000);
    expect(t.sockets).toHaveLength(1);
    expect(t.events.disconnect).toHaveLength(1);
  });
});

describe("credentials", () => {
  it("offers a string as heartline.auth.<credentials> after heartline.v1 and the resume offer", async () => {
    const t = setup({ credentials: "eyJhbGciOi.J9-_x" });
    t.client.connect();
    await microtask();
    expect(t.socket.protocols).toEqual([
      "heartline.v1",
      "heartline.resume",
      "heartline.auth.eyJhbGciOi.J9-_x",
    ]);
  });

  it("calls a function for every attempt, resume attempts included, and awaits a promise", async () => {
    let n = 0;
    let release = (): void => {};
    const t = setup({
      credentials: () =>
        new Promise<string>((resolve) => {
          release = () => resolve(`token${++n}`);
        }),
    });
    t.client.connect();
    await microtask();
    expect(t.sockets).toHaveLength(0); // the token is on its way
    release();
    await microtask();
    expect(t.socket.protocols).toEqual([
      "heartline.v1",
      "heartline.resume",
      "heartline.auth.token1",
    ]);
    t.socket.welcomeResumable("id.secret");
    t.socket.drop();
    await t.fc.tickAsync(250);
    release();
    await microtask();
    expect(t.socket.protocols).toEqual([
      "heartline.v1",
      "heartline.resume.id.secret",
      "heartline.auth.token2",
    ]);
  });

  it("refuses a fixed string a subprotocol cannot carry at createClient (invalid_option)", () => {
    expect(() => setup({ credentials: "a+b/c==" })).toThrow(
      expect.objectContaining({
        code: "invalid_option",
        message: expect.stringMatching(/^credentials must be .*base64url/),
      }),
    );
  });

  it("refuses a function's credentials a subprotocol cannot carry before new WebSocket, with an error that says so and a disconnect", async () => {
    const t = setup({ credentials: () => "a+b/c==" });
    t.client.connect();
    await microtask();
    expect(t.sockets).toHaveLength(0);
    expect(t.events.error).toHaveLength(1);
    expect(t.events.error[0]).toMatchObject({ code: "open_failed" });
    expect(t.events.error[0]!.message).toMatch(/credentials must be .*base64url/);
    expect(t.events.disconnect).toEqual([
      { reason: "open_failed", willReconnect: false, willResume: false },
    ]);
    expect(t.client.state).toBe("closed");
  });

  it("retries an attempt whose credentials function rejected, on the backoff", async () => {
    let calls = 0;
    const t = setup({
      credentials: () => (++calls === 1 ? Promise.reject(new Error("token endpoint down")) : "ok"),
    });
    t.client.connect();
    await microtask();
    await t.fc.tickAsync(0);
    expect(t.events.error[0]).toMatchObject({ code: "open_failed" });
    expect(t.events.disconnect).toEqual([
      { reason: "open_failed", willReconnect: true, willResume: false, delayMs: 250 },
    ]);
    await t.fc.tickAsync(250);
    expect(t.socket.protocols).toContain("heartline.auth.ok");
  });
});

describe("url", () => {
  it("may be a function, called for every attempt", async () => {
    const urls = ["ws://a/ws", "ws://b/ws"];
    const t = setup({ url: () => urls.shift()! });
    t.client.connect();
    await microtask();
    expect(t.socket.url).toBe("ws://a/ws");
    t.socket.drop();
    await t.fc.tickAsync(250);
    expect(t.socket.url).toBe("ws://b/ws");
  });

  it("a new WebSocket that throws is reported with a disconnect, not a silent closed", async () => {
    const t = setup({
      WebSocket: class {
        constructor() {
          throw new SyntaxError("The URL 'nope' is invalid.");
        }
      } as never,
    });
    t.client.connect();
    await microtask();
    expect(t.events.error.map((e) => e.code)).toEqual(["open_failed"]);
    expect(t.events.disconnect).toEqual([
      { reason: "open_failed", willReconnect: false, willResume: false },
    ]);
  });
});

describe("4401 and 401: fresh credentials once, then stop", () => {
  it("with a credentials function: one more attempt with fresh credentials, then unauthorized for good", async () => {
    let n = 0;
    const t = setup({ credentials: () => `t${++n}` });
    t.client.connect();
    await microtask();
    t.socket.open();
    t.socket.drop(4401);
    expect(t.events.disconnect.at(-1)).toEqual({
      reason: "unauthorized",
      code: 4401,
      willReconnect: true,
      willResume: false,
      delayMs: 250,
    });
    await t.fc.tickAsync(250);
    expect(t.socket.protocols).toContain("heartline.auth.t2");
    t.socket.open();
    t.socket.drop(4401);
    expect(t.events.disconnect.at(-1)).toEqual({
      reason: "unauthorized",
      code: 4401,
      willReconnect: false,
      willResume: false,
    });
    expect(t.client.getSnapshot()).toMatchObject({ state: "closed", reason: "unauthorized" });
    await t.fc.tickAsync(60_000);
    expect(t.sockets).toHaveLength(2);
  });

  it("a welcome in between gives the next refusal its one refresh again", async () => {
    let n = 0;
    const t = setup({ credentials: () => `t${++n}` });
    t.client.connect();
    await microtask();
    t.socket.drop(4401);
    await t.fc.tickAsync(250);
    t.socket.welcome(terms);
    t.socket.drop(4401); // e.g. the token expired and the server closed the session
    expect(t.events.disconnect.at(-1)).toMatchObject({
      reason: "unauthorized",
      willReconnect: true,
    });
  });

  it("with fixed credentials (or none): stops at the first refusal", async () => {
    for (const credentials of ["fixed", undefined]) {
      const t = setup(credentials === undefined ? {} : { credentials });
      t.client.connect();
      await microtask();
      t.socket.drop(4401);
      expect(t.events.disconnect).toEqual([
        { reason: "unauthorized", code: 4401, willReconnect: false, willResume: false },
      ]);
      expect(t.client.state).toBe("closed");
    }
  });
});

/** A fake `ws` socket: it refuses its upgrade with `status` the way `ws` reports it. */
function refusingSocket(status: number, headers: Record<string, string> = {}) {
  return class extends FakeSocket {
    listener: ((req: unknown, res: unknown) => void) | undefined;
    on(event: string, listener: (req: unknown, res: unknown) => void): void {
      if (event === "unexpected-response") this.listener = listener;
    }
    refuse(): void {
      this.listener?.({}, { statusCode: status, headers });
    }
    override terminate(): void {
      super.terminate();
      // ws: abortHandshake → an error, then a close 1006.
      this.drop(1006);
    }
  };
}

describe("HTTP refusals, where the runtime shows the status (Node's ws)", () => {
  it.each([403, 404, 400])(
    "%i: reported as refused with the status, no socket_error, not retried",
    async (status) => {
      const sockets: Array<{ refuse(): void }> = [];
      const Refusing = refusingSocket(status);
      const t = setup({
        WebSocket: class extends Refusing {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols);
            sockets.push(this);
          }
        },
      });
      t.client.connect();
      await microtask();
      sockets[0]!.refuse();
      expect(t.events.error).toEqual([]);
      expect(t.events.disconnect).toEqual([
        { reason: "refused", status, willReconnect: false, willResume: false },
      ]);
      expect(t.client.state).toBe("closed");
    },
  );

  it("401 is unauthorized with the status", async () => {
    const sockets: Array<{ refuse(): void }> = [];
    const Refusing = refusingSocket(401);
    const t = setup({
      WebSocket: class extends Refusing {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      },
    });
    t.client.connect();
    await microtask();
    sockets[0]!.refuse();
    expect(t.events.disconnect).toEqual([
      { reason: "unauthorized", status: 401, willReconnect: false, willResume: false },
    ]);
  });

  it.each([503, 429])(
    "%i with Retry-After: 10 is retried exactly 10 s later, not a millisecond before",
    async (status) => {
      const sockets: Array<{ refuse(): void }> = [];
      const Refusing = refusingSocket(status, { "retry-after": "10" });
      const t = setup({
        WebSocket: class extends Refusing {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols);
            sockets.push(this);
          }
        },
      });
      t.client.connect();
      await microtask();
      sockets[0]!.refuse();
      expect(t.events.disconnect).toEqual([
        { reason: "refused", status, willReconnect: true, willResume: false, delayMs: 10_000 },
      ]);
      await t.fc.tickAsync(9_999);
      expect(sockets).toHaveLength(1);
      await t.fc.tickAsync(1);
      expect(sockets).toHaveLength(2);
    },
  );

  it("a 503 without Retry-After is retried on the backoff", async () => {
    const sockets: Array<{ refuse(): void }> = [];
    const Refusing = refusingSocket(503);
    const t = setup({
      WebSocket: class extends Refusing {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      },
    });
    t.client.connect();
    await microtask();
    sockets[0]!.refuse();
    expect(t.events.disconnect.at(-1)).toMatchObject({
      reason: "refused",
      status: 503,
      delayMs: 250,
    });
  });
});

describe("delayMs", () => {
  it("is whole milliseconds, also inside a goodbye window", async () => {
    const t = setup({ random: () => 0.1234 });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.socket.receive({ type: "goodbye", reconnect: { minMs: 1000, maxMs: 10_000 } });
    t.socket.drop(1001);
    // 1000 + 0.1234 · 9000 = 2110.6
    expect(t.events.disconnect[0]!.delayMs).toBe(2111);
    expect(t.events.reconnecting[0]!.delayMs).toBe(2111);
    await t.fc.tickAsync(2110);
    expect(t.sockets).toHaveLength(1);
    await t.fc.tickAsync(1);
    expect(t.sockets).toHaveLength(2);
  });
});

describe("open", () => {
  it("says the session was lost (resumeFailed) when the server refused the resume", async () => {
    const t = setup();
    t.client.connect();
    await microtask();
    t.socket.welcomeResumable("t1");
    t.socket.drop();
    await t.fc.tickAsync(250);
    t.socket.welcomeResumable("t2", { sessionId: "s_2", resumeFailed: "expired" });
    expect(t.events.open.at(-1)).toEqual({
      sessionId: "s_2",
      heartbeat: terms,
      resumed: false,
      resumeFailed: "expired",
    });
  });
});

describe("reconnect.shouldRetry", () => {
  it("replaces the built-in verdict: a 403 retried, a 1006 not", async () => {
    const asked: unknown[] = [];
    const sockets: Array<FakeSocket & { refuse(): void }> = [];
    const Refusing = refusingSocket(403);
    const t = setup({
      reconnect: {
        shouldRetry: (end) => {
          asked.push([end.reason, end.code, end.status]);
          return end.status === 403;
        },
      },
      WebSocket: class extends Refusing {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      },
    });
    t.client.connect();
    await microtask();
    sockets[0]!.refuse();
    expect(t.events.disconnect.at(-1)).toEqual({
      reason: "refused",
      status: 403,
      willReconnect: true,
      willResume: false,
      delayMs: 250,
    });
    await t.fc.tickAsync(250);
    await microtask();
    expect(sockets).toHaveLength(2);
    sockets[1]!.drop(1006);
    expect(t.events.disconnect.at(-1)).toMatchObject({
      reason: "connection_lost",
      willReconnect: false,
    });
    expect(asked).toEqual([
      ["refused", undefined, 403],
      ["connection_lost", 1006, undefined],
    ]);
    expect(t.client.state).toBe("closed");
  });

  it("is not asked after close()", async () => {
    let asked = 0;
    const t = setup({
      reconnect: {
        shouldRetry: () => {
          asked++;
          return true;
        },
      },
    });
    t.client.connect();
    await microtask();
    t.socket.welcome(terms);
    t.client.close();
    expect(asked).toBe(0);
    expect(t.events.disconnect.at(-1)).toMatchObject({
      reason: "client_closed",
      willReconnect: false,
    });
  });
});
