// The store contract suite (tests/support/session-store-contract.ts), run
// against the in-process store: the same suite runs against @heartline/redis's.
import { describeSessionStoreContract } from "../../../../tests/support/session-store-contract.js";
import { createMemorySessionStore } from "../../src/index.js";

describeSessionStoreContract("memory", async () => ({
  store: createMemorySessionStore<string, unknown>(),
  cleanup: async () => {},
}));
