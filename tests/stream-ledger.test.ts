// The verdict the multi-process session tests rest on (support/stream-ledger.ts)
// catches what it must: a lost message, a duplicate outside the documented
// window, a repeat under another seq, disorder, an echo lost by a live node;
// and allows only the documented repeat (same sessionId and seq, a lost
// process involved) and echoes that died with their node.
import { describe, expect, it } from "vitest";
import type { Line } from "./support/json-lines-child.js";
import type { StreamClientRecord, StreamEcho } from "./support/stream-client.js";
import { failures, type NodeRecord, streamVerdict } from "./support/stream-ledger.js";

const u = "u1";
const line = (fields: Record<string, unknown>): Line => ({ receivedAt: 0, ...fields }) as Line;
const msg = (sessionId: string, seq: number, c: number) =>
  line({ type: "message", sessionId, seq, data: { u, c } });
const echoOf = (node: string, c: number, seq: number): StreamEcho => ({
  echo: { u, c },
  node,
  seq,
});
const sent = (node: string, c: number, seq: number) =>
  line({ type: "sent", sessionId: "s", data: echoOf(node, c, seq), ok: true });

function client(partial: Partial<StreamClientRecord>): StreamClientRecord {
  return {
    user: u,
    accepted: [1, 2, 3],
    refused: [],
    echoes: [],
    reported: [],
    opens: [],
    disconnects: [],
    errors: [],
    ...partial,
  };
}

const node = (nodeId: string, lines: Line[], lost = false): NodeRecord => ({ nodeId, lines, lost });

describe("streamVerdict", () => {
  const clean = [
    node("a", [msg("s", 1, 1), sent("a", 1, 1), msg("s", 2, 2), sent("a", 2, 2)]),
    node("b", [msg("s", 3, 3), sent("b", 3, 3)]),
  ];
  const echoes = [echoOf("a", 1, 1), echoOf("a", 2, 2), echoOf("b", 3, 3)];

  it("passes a clean run", () => {
    expect(failures(streamVerdict(client({ echoes }), clean))).toEqual({});
  });

  it("catches a message neither delivered nor reported, and allows a reported one", () => {
    const missing = [clean[0]!, node("b", [])];
    const v = streamVerdict(client({ echoes: echoes.slice(0, 2) }), missing);
    expect(v.lostToServer).toEqual([3]);
    const reported = streamVerdict(client({ echoes: echoes.slice(0, 2), reported: [3] }), missing);
    expect(failures(reported)).toEqual({});
  });

  it("allows a repeat with the same seq after a lost node, and nothing else", () => {
    const repeat = [
      node("a", [msg("s", 1, 1), sent("a", 1, 1), msg("s", 2, 2)], true),
      node("b", [msg("s", 2, 2), sent("b", 2, 2), msg("s", 3, 3), sent("b", 3, 3)]),
    ];
    const ok = streamVerdict(
      client({ echoes: [echoOf("a", 1, 1), echoOf("b", 2, 2), echoOf("b", 3, 3)] }),
      repeat,
    );
    expect(failures(ok)).toEqual({});
    expect(ok.repeatedInWindow).toEqual([2]);

    // A live process that then lost the session (its sessionMoved: the client resumed
    // elsewhere before its receipt was recorded): the same window.
    const moved = [
      node("a", [
        msg("s", 1, 1),
        sent("a", 1, 1),
        msg("s", 2, 2),
        line({ type: "sessionMoved", sessionId: "s", undelivered: [] }),
      ]),
      repeat[1]!,
    ];
    const afterMove = streamVerdict(
      client({ echoes: [echoOf("a", 1, 1), echoOf("b", 2, 2), echoOf("b", 3, 3)] }),
      moved,
    );
    expect(failures(afterMove)).toEqual({});
    expect(afterMove.repeatedInWindow).toEqual([2]);
    // A sessionMoved BEFORE the delivery does not excuse it.
    const movedFirst = [
      node("a", [
        msg("s", 1, 1),
        line({ type: "sessionMoved", sessionId: "s", undelivered: [] }),
        msg("s", 2, 2),
      ]),
      repeat[1]!,
    ];
    expect(streamVerdict(client({}), movedFirst).duplicatedToServer).toEqual([2]);

    // The same repeat with no lost node involved: a duplicate.
    const live = [{ ...repeat[0]!, lost: false }, repeat[1]!];
    expect(streamVerdict(client({}), live).duplicatedToServer).toEqual([2]);

    // A repeat under another seq: a duplicate (and disorder), lost node or not.
    const otherSeq = [repeat[0]!, node("b", [msg("s", 3, 2), msg("s", 4, 3)])];
    const v = streamVerdict(client({}), otherSeq);
    expect(v.duplicatedToServer).toEqual([2]);
  });

  it("catches disorder at the server and at the client", () => {
    const swapped = [node("a", [msg("s", 1, 2), msg("s", 2, 1), msg("s", 3, 3)])];
    expect(streamVerdict(client({}), swapped).disorderedToServer).toEqual([1]);
    const v = streamVerdict(
      client({ echoes: [echoOf("a", 2, 2), echoOf("a", 1, 1), echoOf("b", 3, 3)] }),
      clean,
    );
    expect(v.disorderedToClient).toEqual([1]);
  });

  it("catches an echo twice and an echo a live node lost; allows one that died with its node", () => {
    const twice = streamVerdict(client({ echoes: [...echoes, echoOf("b", 3, 3)] }), clean);
    expect(twice.duplicatedToClient).toEqual(["b/3/3"]);
    const lostEcho = streamVerdict(client({ echoes: echoes.slice(0, 2) }), clean);
    expect(lostEcho.lostToClient).toEqual(["b/3/3"]);
    const died = streamVerdict(client({ echoes: echoes.slice(1) }), [
      { ...clean[0]!, lost: true },
      clean[1]!,
    ]);
    expect(failures(died)).toEqual({});
    expect(died.diedWithNode).toBe(1);
    // A fenced node lives: its lost echo is a failure, not a death.
    const fencedLost = streamVerdict(client({ echoes: echoes.slice(1) }), [
      { ...clean[0]!, fenced: true },
      clean[1]!,
    ]);
    expect(fencedLost.lostToClient).toEqual(["a/1/1"]);
    // An echo reported undelivered by its node's sessionEnd is not lost.
    const ended = streamVerdict(client({ echoes: echoes.slice(0, 2) }), [
      clean[0]!,
      node("b", [
        ...clean[1]!.lines,
        line({ type: "sessionEnd", sessionId: "s", undelivered: [echoOf("b", 3, 3)] }),
      ]),
    ]);
    expect(failures(ended)).toEqual({});
  });
});
