/** What travels on an in-memory link: data frames and the few control events a socket has. */
export type Packet =
  | { readonly kind: "connect"; readonly protocols: readonly string[] }
  | { readonly kind: "open"; readonly protocol: string }
  /** The upgrade was refused: with an HTTP status by the server's admission, without one when nothing listens. */
  | { readonly kind: "refuse"; readonly status?: number }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "close"; readonly code: number; readonly reason: string }
  /** The underlying stream ended (TCP FIN or reset): after a close frame, or without one. */
  | { readonly kind: "fin" };

/** How a control packet reads in the timeline. */
export function describePacket(packet: Packet, toServer: boolean): string {
  const arrow = toServer ? "→ server" : "← server";
  switch (packet.kind) {
    case "connect":
      return `${arrow} connect (offers ${packet.protocols.join(", ") || "no subprotocol"})`;
    case "open":
      return `${arrow} open (${packet.protocol})`;
    case "refuse":
      return `${arrow} upgrade refused${packet.status === undefined ? "" : ` ${packet.status}`}`;
    case "close":
      return `${arrow} close frame ${packet.code}${packet.reason ? ` ${packet.reason}` : ""}`;
    case "fin":
      return `${arrow} socket ended`;
    case "text":
      return `${arrow} ${packet.text}`;
  }
}
