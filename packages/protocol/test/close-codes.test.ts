import { describe, expect, it } from "vitest";
import {
  CloseCode,
  closeCodeInfo,
  DisconnectReason,
  disconnectReasonFor,
  shouldReconnect,
} from "../src/index.js";

describe("shouldReconnect", () => {
  it.each([
    [CloseCode.Normal, false],
    [CloseCode.GoingAway, true],
    [CloseCode.UnsupportedData, false],
    [CloseCode.Abnormal, true],
    [CloseCode.InvalidPayload, false],
    [CloseCode.MessageTooBig, true],
    [CloseCode.TryAgainLater, true],
    [CloseCode.HeartbeatTimeout, true],
    [CloseCode.BadMessage, false],
    [CloseCode.RateLimited, true],
    [CloseCode.PolicyViolation, false],
    [CloseCode.Replaced, false],
    [1002, false],
    [1008, false],
    [1011, true],
    [1012, true],
    [4401, false],
    [4999, true],
  ])("code %i → %s", (code, expected) => {
    expect(shouldReconnect(code)).toBe(expected);
  });

  it("documents every Heartline close code", () => {
    for (const code of Object.values(CloseCode)) {
      const info = (closeCodeInfo as Record<number, { why: string } | undefined>)[code];
      expect(info?.why, `close code ${code}`).toBeTruthy();
    }
  });
});

describe("disconnectReasonFor", () => {
  // Written out, not read from closeCodeInfo: the table is what is under test.
  it.each([
    [CloseCode.Normal, "server_closed"],
    [CloseCode.GoingAway, "server_closed"],
    [CloseCode.UnsupportedData, "protocol_error"],
    [CloseCode.Abnormal, "connection_lost"],
    [CloseCode.InvalidPayload, "protocol_error"],
    [CloseCode.MessageTooBig, "protocol_error"],
    [CloseCode.TryAgainLater, "server_closed"],
    [CloseCode.HeartbeatTimeout, "timeout"],
    [CloseCode.BadMessage, "protocol_error"],
    [CloseCode.RateLimited, "rate_limited"],
    // Outside the table.
    [1002, "protocol_error"],
    [1008, "protocol_error"],
    [1005, "server_closed"],
    [1010, "server_closed"],
    [1011, "server_closed"],
    [1012, "server_closed"],
    [4001, "server_closed"],
    [4403, "server_closed"],
    [4999, "server_closed"],
  ])("code %i → %s", (code, expected) => {
    expect(disconnectReasonFor(code)).toBe(expected);
  });

  it("gives every Heartline close code a reason from DisconnectReason", () => {
    const reasons: string[] = Object.values(DisconnectReason);
    for (const code of Object.values(CloseCode)) {
      const info = (closeCodeInfo as Record<number, { reason: string } | undefined>)[code];
      expect(reasons, `close code ${code}`).toContain(info?.reason);
      expect(disconnectReasonFor(code)).toBe(info?.reason);
    }
  });
});
