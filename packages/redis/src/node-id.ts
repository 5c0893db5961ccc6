import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** hostname:pid:random — unique even when a restarted process reuses a pid. */
export function defaultNodeId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}
