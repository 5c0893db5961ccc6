import { parseSubprotocolOffer } from "@heartline/protocol";
import type { UpgradeHeaders } from "./admission-api.js";

/**
 * The credentials a Heartline client offered (`credentials` option): the text
 * after `heartline.auth.` in `Sec-WebSocket-Protocol`, or undefined when it
 * offered none. For `authenticate`: a browser cannot set an `Authorization`
 * header on a WebSocket, and a token in the URL ends up in logs. The server
 * never selects this subprotocol (it answers `heartline.v1`), so the
 * credentials are not echoed back.
 */
export function credentialsOf(request: { readonly headers: UpgradeHeaders }): string | undefined {
  const header = request.headers["sec-websocket-protocol"];
  return parseSubprotocolOffer(typeof header === "string" ? header : header?.join(",")).credentials;
}
