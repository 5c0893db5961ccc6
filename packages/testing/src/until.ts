/**
 * Waits, bounded, for real I/O to make `check` true (a socket's bytes, a
 * child process's line), polling every few milliseconds; rejects with
 * "timed out waiting for <what>" after `ms`. Never for a Heartline timeout:
 * those run on the fake clock, and a test moves it.
 */
export async function until(check: () => boolean, what = "condition", ms = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
