// Every server case, in the order they run (shutdown last: it ends the server).
import { goodbyeSchema } from "@heartline/protocol";
import type { Case, RunOptions, SuiteResult } from "./report.js";
import { expect, runCases, Skip } from "./report.js";
import { heartbeatCases } from "./server-cases-heartbeat.js";
import { messageCases } from "./server-cases-messages.js";
import { resumeCases } from "./server-cases-resume.js";
import { upgradeCases } from "./server-cases-upgrade.js";
import {
  connectWelcomed,
  expectClose,
  type ServerContext,
  type ServerSuiteOptions,
  serverContext,
} from "./server-suite.js";

const shutdownCase: Case<ServerContext> = {
  id: "shutdown.goodbye-1001",
  title:
    "on shutdown every client gets goodbye { reconnect { minMs, maxMs } } as its last frame, then close 1001",
  section: "Messages (goodbye)",
  async run(ctx) {
    if (ctx.shutdown === undefined)
      throw new Skip("needs --shutdown-command or --pid (the kit may stop the server)");
    const clients = [await connectWelcomed(ctx), await connectWelcomed(ctx)];
    await ctx.shutdown();
    for (const { probe } of clients) {
      await expectClose(probe, 1001, 10_000, "shutdown");
      const last = probe.frames.at(-1);
      expect(
        last?.json?.type === "goodbye",
        `the last frame before 1001 is ${last?.text ?? "none"}`,
      );
      const parsed = goodbyeSchema.safeParse(last.json);
      expect(parsed.success, `goodbye does not match the contract: ${last.text}`);
    }
  },
};

/** Every server case, in order. */
export const serverCases: readonly Case<ServerContext>[] = [
  ...upgradeCases,
  ...heartbeatCases,
  ...messageCases,
  ...resumeCases,
  shutdownCase,
];

/** Runs the server side against `options.url`; TAP goes to `run.write`. */
export function runServerSuite(
  options: ServerSuiteOptions,
  run: RunOptions = {},
): Promise<SuiteResult> {
  return runCases(serverCases, serverContext(options), run);
}
