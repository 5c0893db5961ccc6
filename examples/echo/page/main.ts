// The echo demo page: a Heartline client driven by plain DOM controls. Each
// Connect creates a client for the URL in the field; Close Socket closes it
// for good. Everything the client reports goes to the communication log.
import { createClient, type HeartlineClient } from "@heartline/client";
import { createHeartbeatPanel } from "./heartbeat-panel.js";
import { createLog, show } from "./log.js";

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no #${id} of the right kind`);
  return element;
}

const status = byId("status", HTMLElement);
const url = byId("url", HTMLInputElement);
const connectButton = byId("connect", HTMLButtonElement);
const closeButton = byId("close", HTMLButtonElement);
const sendForm = byId("send-form", HTMLFormElement);
const message = byId("message", HTMLInputElement);
const sendButton = byId("send", HTMLButtonElement);
const pause = byId("pause-heartbeats", HTMLInputElement);
const log = createLog(byId("log", HTMLOListElement));

// The page's own server by default; the field is editable.
url.value = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;

let client: HeartlineClient | undefined;
const renderPanel = createHeartbeatPanel(() => client);

function showState(state: HeartlineClient["state"]): void {
  status.textContent = state;
  status.dataset.state = state;
  const closed = state === "closed";
  connectButton.disabled = !closed;
  url.disabled = !closed;
  closeButton.disabled = closed;
  // While reconnecting, a message waits in the client's outbox for the next connection.
  sendButton.disabled = closed;
}

function connect(): void {
  const target = url.value.trim();
  if (client !== undefined && client.state !== "closed") return;
  let next: HeartlineClient;
  try {
    next = createClient({
      url: target,
      on: {
        state: ({ state }) => showState(state),
        open: ({ sessionId, heartbeat }) => {
          log(
            "open",
            `session ${sessionId}; ping every ${heartbeat.intervalMs} ms, timeout ${heartbeat.timeoutMs} ms`,
          );
          renderPanel();
        },
        // A resumed connection continues the same session: nothing was lost
        // either way (k: the messages this page sent again).
        resumed: ({ gapMs, replayed }) =>
          log("resume", `resumed after ${Math.round(gapMs)} ms, ${replayed} replayed`),
        // What the client could not deliver, with the data: never dropped silently.
        undelivered: ({ reason, resumeFailed, messages }) =>
          log(
            "undelivered",
            `${messages.length} not delivered (${resumeFailed === undefined ? reason : `${reason}: ${resumeFailed}`}): ${messages.map(show).join(", ")}`,
          ),
        message: (data) => log("receive", show(data)),
        pong: () => renderPanel(),
        disconnect: ({ reason, code, willReconnect, delayMs }) => {
          const how = code === undefined ? "no close frame" : `code ${code}`;
          const then = willReconnect
            ? `reconnecting in ${Math.round(delayMs ?? 0)} ms`
            : "not reconnecting";
          log("close", `${how}, reason ${reason}; ${then}`);
        },
        reconnecting: ({ attempt, delayMs }) =>
          log("reconnect", `attempt ${attempt + 1} in ${Math.round(delayMs)} ms`),
        error: (error) => log("error", `${error.code}: ${error.message}`),
      },
    });
  } catch (error) {
    log("error", String(error));
    return;
  }
  client = next;
  if (pause.checked) next.heartbeat.pause();
  log("connect", target);
  next.connect();
}

connectButton.addEventListener("click", connect);
closeButton.addEventListener("click", () => client?.close());

sendForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (client === undefined) return;
  const text = message.value;
  // send() returns false when it refuses; the `error` event logs why.
  if (client.send(text)) log("send", show(text));
});

pause.addEventListener("change", () => {
  if (client === undefined) return;
  if (pause.checked) {
    client.heartbeat.pause();
    log("heartbeat", "paused: no pings until resumed; the server will time this client out");
  } else {
    client.heartbeat.resume();
    log("heartbeat", "resumed: ping now, then every interval");
  }
});

showState("closed");
