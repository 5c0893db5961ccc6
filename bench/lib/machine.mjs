// The machine a run happened on, written next to its figures.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

function git(args) {
  try {
    return execFileSync("git", args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
}

/** Soft and hard limits on open files of this process. */
export function openFileLimits() {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const [soft, hard] = (line ?? "").trim().split(/\s+/).slice(3, 5).map(Number);
  return { soft, hard };
}

export function describeMachine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    openFiles: openFileLimits(),
    commit: git(["rev-parse", "--short", "HEAD"]),
    dirty: git(["status", "--porcelain", "--", "packages", "bench"]) !== "",
  };
}
