// `pnpm demo` runs this (after building the page bundle): the echo server on
// Node, configured from the environment (see demo-main.ts for what it prints).
import process from "node:process";
import { runEchoDemo } from "./demo-main.js";
import { startEchoServer } from "./echo-server.js";

await runEchoDemo(startEchoServer, `Node ${process.version}`);
