export { clientCases, runClientSuite } from "./client-cases.js";
export { type ClientSuiteOptions, clientSuiteDefaults } from "./client-suite.js";
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
