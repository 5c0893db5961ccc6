// The communication log: one line per open, send, receive, close, error,
// reconnect, resume and undelivered batch, newest at the bottom. `data-kind` lets the stylesheet colour a
// line and the browser tests find it.
export type LogKind =
  | "connect"
  | "open"
  | "send"
  | "receive"
  | "close"
  | "error"
  | "reconnect"
  | "heartbeat"
  | "resume"
  | "undelivered";

function clockTime(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function createLog(list: HTMLOListElement): (kind: LogKind, text: string) => void {
  return (kind, text) => {
    const now = new Date();
    const item = document.createElement("li");
    item.dataset.kind = kind;
    const time = document.createElement("time");
    time.dateTime = now.toISOString();
    time.textContent = clockTime(now);
    const label = document.createElement("span");
    label.className = "kind";
    label.textContent = kind;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.append(time, label, body);
    // Follow the newest line unless the reader has scrolled up to read.
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    list.append(item);
    if (atBottom) list.scrollTop = list.scrollHeight;
  };
}

/** Application data as the reader typed it: strings bare, anything else as JSON. */
export function show(data: unknown): string {
  return typeof data === "string" ? data : JSON.stringify(data);
}
