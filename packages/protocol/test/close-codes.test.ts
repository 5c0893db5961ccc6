import { describe, expect, it } from "vitest";
import { CloseCode, closeCodeInfo, shouldReconnect } from "../src/index.js";

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
