// The heartbeat panel: the server's terms, the last round trip, pings sent,
// and how long ago the server last spoke, read from the client's public
// `heartbeat`, `rtt` and `stats` and redrawn a few times a second.
import type { HeartlineClient } from "@heartline/client";

/** How often the panel is redrawn; fine enough for "time since the server last spoke". */
export const PANEL_REFRESH_MS = 100;

function ms(value: number | undefined): string {
  return value === undefined ? "–" : `${Math.round(value).toLocaleString("en")} ms`;
}

function field(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
}

export function createHeartbeatPanel(current: () => HeartlineClient | undefined): () => void {
  const interval = field("hb-interval");
  const timeout = field("hb-timeout");
  const rtt = field("hb-rtt");
  const pings = field("hb-pings");
  const lastHeard = field("hb-last-heard");

  function render(): void {
    const client = current();
    const terms = client?.heartbeat.terms;
    interval.textContent = ms(terms?.intervalMs);
    timeout.textContent = ms(terms?.timeoutMs);
    rtt.textContent = ms(client?.rtt.latestMs);
    pings.textContent = String(client?.stats.pingsSent ?? 0);
    const heardAt = client?.stats.lastHeardAt;
    // The client's default clock is Date.now(), so the two subtract directly.
    lastHeard.textContent = heardAt === undefined ? "–" : `${ms(Date.now() - heardAt)} ago`;
  }

  setInterval(render, PANEL_REFRESH_MS);
  render();
  return render;
}
