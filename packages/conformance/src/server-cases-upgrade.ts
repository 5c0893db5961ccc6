// The upgrade checks, in the contract's order: path, origin, subprotocol,
// capacity, authentication; and 426 for plain HTTP.
import { SUBPROTOCOL } from "@heartline/protocol";
import type { Case } from "./report.js";
import { expect } from "./report.js";
import { connect, needs, type ServerContext, welcomed } from "./server-suite.js";
import { type Probe, plainGetStatus, sleep, UpgradeRefused, upgradeStatus } from "./wire.js";

const section = "Transport and the upgrade";

function otherPath(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/$/, "")}-not-heartline`;
  return u.toString();
}

async function refusal(work: Promise<unknown>): Promise<UpgradeRefused> {
  try {
    const probe = (await work) as Probe;
    probe.terminate();
  } catch (error) {
    if (error instanceof UpgradeRefused) return error;
    throw error;
  }
  expect(false, "the upgrade was accepted (101)");
  throw new Error("unreachable");
}

function retryAfter(refused: UpgradeRefused): void {
  const value = refused.headers["retry-after"];
  expect(
    typeof value === "string" && /^\d+$/.test(value) && Number(value) >= 1,
    `Retry-After is not an integer ≥ 1: ${String(value)}`,
  );
}

export const upgradeCases: Case<ServerContext>[] = [
  {
    id: "upgrade.path-404",
    title: "an upgrade to another path gets 404",
    section,
    async run(ctx) {
      const status = await upgradeStatus(otherPath(ctx.url), {
        protocols: [SUBPROTOCOL],
        ...(ctx.headers ? { headers: ctx.headers } : {}),
      });
      expect(status === 404, `got ${status}`);
    },
  },
  {
    id: "upgrade.origin-403",
    title: "an Origin not allowed gets 403; the allowed one is upgraded",
    section,
    async run(ctx) {
      const allowed = needs(ctx.allowedOrigin, "--allowed-origin (an origin the server allows)");
      const refused = await refusal(connect(ctx, { origin: "https://not-allowed.invalid" }));
      expect(refused.status === 403, `a foreign Origin got ${refused.status}`);
      const w = await welcomed(await connect(ctx, { origin: allowed }), ctx);
      w.probe.close();
    },
  },
  {
    id: "upgrade.subprotocol-400",
    title: "offering subprotocols, none of them heartline.v1, gets 400",
    section,
    async run(ctx) {
      const refused = await refusal(connect(ctx, { protocols: ["chat.v2", "heartline.v2"] }));
      expect(refused.status === 400, `got ${refused.status}`);
    },
  },
  {
    id: "upgrade.subprotocol-selected",
    title: "heartline.v1 is selected when offered among others; no offer is accepted as v1",
    section,
    async run(ctx) {
      const mixed = await welcomed(
        await connect(ctx, { protocols: ["chat.v2", SUBPROTOCOL] }),
        ctx,
      );
      expect(mixed.probe.protocol === SUBPROTOCOL, `selected "${mixed.probe.protocol}"`);
      mixed.probe.close();
      const none = await welcomed(await connect(ctx, { protocols: [] }), ctx);
      expect(
        none.probe.protocol === "",
        `selected "${none.probe.protocol}" though none was offered`,
      );
      none.probe.close();
    },
  },
  {
    id: "upgrade.plain-http-426",
    title: "a plain HTTP request to the WebSocket path gets 426",
    section,
    async run(ctx) {
      const status = await plainGetStatus(ctx.url, ctx.headers ?? {});
      expect(status === 426, `got ${status}`);
    },
  },
  {
    id: "upgrade.capacity-503",
    title: "past the total connection limit: 503 with Retry-After (integer seconds ≥ 1)",
    section,
    async run(ctx) {
      const limit = needs(
        ctx.maxConnections,
        "--max-connections (the server's total limit; keep it small)",
      );
      const held: Probe[] = [];
      try {
        for (let i = 0; i < limit; i++) held.push((await welcomed(await connect(ctx), ctx)).probe);
        const refused = await refusal(connect(ctx));
        expect(refused.status === 503, `connection ${limit + 1} got ${refused.status}`);
        retryAfter(refused);
      } finally {
        for (const p of held) p.close();
        await Promise.all(held.map((p) => p.closed));
      }
    },
  },
  {
    id: "upgrade.per-address-429",
    title: "past the per-address limit: 429 (Retry-After, when sent, an integer ≥ 1)",
    section,
    async run(ctx) {
      const limit = needs(
        ctx.maxConnectionsPerAddress,
        "--max-connections-per-address (keep it small)",
      );
      const held: Probe[] = [];
      try {
        for (let i = 0; i < limit; i++) held.push((await welcomed(await connect(ctx), ctx)).probe);
        const refused = await refusal(connect(ctx));
        expect(
          refused.status === 429,
          `connection ${limit + 1} from one address got ${refused.status}`,
        );
        if (refused.headers["retry-after"] !== undefined) retryAfter(refused);
      } finally {
        for (const p of held) p.close();
        await Promise.all(held.map((p) => p.closed));
      }
    },
  },
  {
    id: "upgrade.unauthorized",
    title: "a refused authentication gets 401, or (set so) close 4401 with no welcome",
    section,
    async run(ctx) {
      const mode = needs(
        ctx.unauthorized,
        "--unauthorized 401|4401 (the server refuses upgrades without --header)",
      );
      const bare = { ...ctx, headers: {} };
      if (mode === 401) {
        const refused = await refusal(connect(bare));
        expect(refused.status === 401, `got ${refused.status}`);
        return;
      }
      let probe: Probe;
      try {
        probe = await connect(bare);
      } catch (error) {
        if (error instanceof UpgradeRefused)
          expect(false, `refused with HTTP ${error.status}, expected an upgrade closed 4401`);
        throw error;
      }
      const closed = await probe.closedWithin(2000, "close 4401");
      expect(closed.code === 4401, `closed with ${closed.code}`);
      expect(
        probe.frames.length === 0,
        `frames before the close: ${probe.frames.map((f) => f.text).join(", ")}`,
      );
      await sleep(0);
    },
  },
];
