// The declarations use `node:child_process` types and `Buffer`; this keeps them
// resolvable for a consumer whose tsconfig has `types: []`. `@types/node` is an optional peer.
/// <reference types="node" preserve="true" />
export { clientCases, runClientSuite } from "./client-cases.js";
export {
  type ClientContext,
  type ClientSuiteOptions,
  clientSuiteDefaults,
} from "./client-suite.js";
export {
  type HeartlineClientDriverOptions,
  runHeartlineClientDriver,
} from "./heartline-client-driver.js";
export {
  type Case,
  type CaseResult,
  type CaseStatus,
  type RunOptions,
  Skip,
  type SuiteResult,
  Violation,
} from "./report.js";
export { runServerSuite, serverCases } from "./server-cases.js";
export {
  type RateTerms,
  type ServerContext,
  type ServerSuiteOptions,
  serverSuiteDefaults,
} from "./server-suite.js";
