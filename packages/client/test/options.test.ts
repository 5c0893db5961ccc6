// Every client option is checked at createClient, synchronously, with
// `invalid_option` and a message naming the option (issue 21 point 5).
import { systemClock } from "@heartline/protocol";
import { describe, expect, it } from "vitest";
import { type ClientOptions, createClient, HeartlineClientError } from "../src/index.js";

const url = "ws://127.0.0.1:1/ws";

/** [what is wrong, the options, the option the message must name]. */
const invalid: Array<[string, unknown, string]> = [
  ["no options at all", undefined, "options"],
  ["options that are not an object", "ws://x", "options"],
  ["a missing url", {}, "url"],
  ["an empty url", { url: "" }, "url"],
  ["a url that is not a string", { url: 8080 }, "url"],
  ["a protocol that is not an object", { url, protocol: "chat" }, "protocol"],
  ["a WebSocket that is not a constructor", { url, WebSocket: {} }, "WebSocket"],
  ["connectTimeoutMs 0", { url, connectTimeoutMs: 0 }, "connectTimeoutMs"],
  ["a negative connectTimeoutMs", { url, connectTimeoutMs: -1 }, "connectTimeoutMs"],
  ["connectTimeoutMs NaN", { url, connectTimeoutMs: Number.NaN }, "connectTimeoutMs"],
  ["reconnect true", { url, reconnect: true }, "reconnect"],
  ["a negative reconnect.baseMs", { url, reconnect: { baseMs: -1 } }, "reconnect.baseMs"],
  ["reconnect.baseMs Infinity", { url, reconnect: { baseMs: Infinity } }, "reconnect.baseMs"],
  ["a reconnect.capMs string", { url, reconnect: { capMs: "30s" } }, "reconnect.capMs"],
  [
    "a negative stableAfterMs",
    { url, reconnect: { stableAfterMs: -5 } },
    "reconnect.stableAfterMs",
  ],
  ["maxAttempts 1.5", { url, reconnect: { maxAttempts: 1.5 } }, "reconnect.maxAttempts"],
  ["maxAttempts -1", { url, reconnect: { maxAttempts: -1 } }, "reconnect.maxAttempts"],
  ["a backoff that is not a function", { url, reconnect: { backoff: 100 } }, "reconnect.backoff"],
  ["an outbox number", { url, outbox: 100 }, "outbox"],
  ["outbox.maxMessages -1", { url, outbox: { maxMessages: -1 } }, "outbox.maxMessages"],
  ["outbox.maxMessages Infinity", { url, outbox: { maxMessages: Infinity } }, "outbox.maxMessages"],
  ["resume as a string", { url, resume: "yes" }, "resume"],
  ["a clock without setTimeout", { url, clock: { now: () => 0, clearTimeout() {} } }, "clock"],
  ["random as a number", { url, random: 0.5 }, "random"],
  ["on as a function", { url, on: () => {} }, "on"],
  ["a listener that is not a function", { url, on: { open: "log" } }, "on.open"],
];

/** Options that are valid, edge values included (0 is a value, Infinity where the option says so). */
const valid: Array<[string, ClientOptions]> = [
  ["only a url", { url }],
  ["reconnect false", { url, reconnect: false }],
  [
    "every number at 0 where 0 means something",
    {
      url,
      reconnect: { baseMs: 0, capMs: 0, maxAttempts: 0, stableAfterMs: 0 },
      outbox: { maxMessages: 0 },
    },
  ],
  [
    "Infinity where it means no limit",
    {
      url,
      connectTimeoutMs: Infinity,
      reconnect: { maxAttempts: Infinity },
    },
  ],
  [
    "everything given",
    {
      url,
      protocol: {},
      WebSocket: class {} as never,
      clock: systemClock,
      random: Math.random,
      resume: false,
      reconnect: { backoff: () => 1 },
      on: { open: () => {} },
    },
  ],
];

describe("createClient checks its options", () => {
  it.each(invalid)("throws invalid_option for %s", (_, options, name) => {
    let thrown: unknown;
    try {
      createClient(options as ClientOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HeartlineClientError);
    expect(thrown).toMatchObject({ code: "invalid_option" });
    expect((thrown as Error).message.startsWith(`${name} must be`)).toBe(true);
  });

  it.each(valid)("accepts %s", (_, options) => {
    expect(createClient(options).state).toBe("closed");
  });
});
