/**
 * What a receiver does with an incoming `message` on a resumable session
 * (PROTOCOL.md, "Message sequence numbers"): deliver the next seq, drop one
 * already delivered (a replay: acknowledged again), and treat a gap or a
 * missing seq as a bad message (the server closes 4400).
 */
export const SeqVerdict = { Deliver: 0, Duplicate: 1, Gap: 2 } as const;
export type SeqVerdict = (typeof SeqVerdict)[keyof typeof SeqVerdict];

/**
 * The verdict for `seq` when `delivered` is the last seq delivered (0 before
 * the first). Pure: the caller records `seq` as delivered on `Deliver`.
 */
export function seqVerdict(seq: number | undefined, delivered: number): SeqVerdict {
  if (seq === undefined || seq > delivered + 1) return SeqVerdict.Gap;
  return seq <= delivered ? SeqVerdict.Duplicate : SeqVerdict.Deliver;
}
