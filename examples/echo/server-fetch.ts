// `pnpm demo:bun` and `pnpm demo:deno` run this (after building the page
// bundle): the same echo demo on Bun or Deno, whichever runs it.
import { runEchoDemo } from "./demo-main.js";
import { runtimeName, startFetchEchoServer } from "./echo-fetch-server.js";

await runEchoDemo(startFetchEchoServer, runtimeName());
