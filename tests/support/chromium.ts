// Finds Debian's Chromium for the browser tests and launches it the way this
// machine needs: headless, no sandbox (root), and no background networking
// (the network is closed, and Chromium's own connections would be refused).
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const candidates = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
].filter((p): p is string => typeof p === "string" && p.length > 0);

/** The Chromium executable, or undefined when none is installed. */
export const chromiumPath: string | undefined = candidates.find((p) => existsSync(p));

/**
 * Outside CI a missing Chromium skips the browser tests, and says so; under
 * CI=true it must be there (.ci/run installs it), so nothing is skipped.
 */
export const skipBrowserTests: boolean = chromiumPath === undefined && process.env.CI !== "true";

if (chromiumPath === undefined) {
  const message =
    "No Chromium found (tried CHROMIUM_PATH, /usr/bin/chromium, …): install it with `apt-get install -y chromium`.";
  if (process.env.CI === "true") throw new Error(`${message} CI=true requires the browser tests.`);
  console.warn(`${message} The browser tests are skipped.`);
}

/** The flags every test Chromium runs with (headless is added by whoever launches it). */
export const chromiumArgs: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export async function launchChromium(): Promise<Browser> {
  if (chromiumPath === undefined) throw new Error("no Chromium to launch");
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: [...chromiumArgs] });
}
