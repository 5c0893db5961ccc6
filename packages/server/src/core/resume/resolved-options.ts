// The `resume` option with its defaults applied (`resolveResumeOptions`),
// apart from the option itself so the store seam can name it without an
// import cycle (the option names the store).

/** The resolved `resume` option: the window and every bound, as the server and its store use them. */
export interface ResolvedResumeOptions {
  /** How long a dropped session stays resumable. */
  readonly windowMs: number;
  /** Messages held unacknowledged per session; past it: overflow. */
  readonly maxUnackedMessages: number;
  /** Bytes of those per session; past it: overflow. */
  readonly maxUnackedBytes: number;
  /** Bytes held unacknowledged across this process's sessions. */
  readonly maxUnackedBytesTotal: number;
  /** Sessions held at once (the eviction rule applies at the bound). */
  readonly maxSessions: number;
  /** Sessions waiting for their client from one address. */
  readonly maxWaitingPerAddress: number;
  /** Sessions waiting for their client per `clientOf` key. */
  readonly maxWaitingPerClient: number;
  /** Names the client an `auth` belongs to, for `maxWaitingPerClient` (undefined: no such bound). */
  readonly clientOf: ((auth: unknown) => string | undefined) | undefined;
  /** Whether a resuming client (its auth) is the session's: `mismatch` otherwise. */
  readonly sameClient: (sessionAuth: unknown, newAuth: unknown) => boolean;
}
