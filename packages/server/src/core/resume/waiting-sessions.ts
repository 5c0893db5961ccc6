/**
 * A session that waits for its client, as the eviction rule sees it: the
 * address and the client it came from (its groups), and its class.
 */
export interface WaitingSession {
  /** The client's address when the session was created (undefined: no address bound applies). */
  readonly address: string | undefined;
  /** `resume.clientOf(auth)` (undefined: no per-client bound applies). */
  readonly clientKey: string | undefined;
  /** Which goes first when the table is full: lower first (see `evictionClass`). */
  evictionClass: number;
}

/**
 * The eviction rule's classes, lowest gives way first: unauthenticated
 * before authenticated (a flood needs no credentials; a signed-in user's
 * session is worth more), then, within each, a session that never exchanged
 * a message before one that did (it has nothing to lose). Within a class the
 * oldest waiter goes first.
 */
export function evictionClass(authenticated: boolean, exchanged: boolean): number {
  return (authenticated ? 2 : 0) + (exchanged ? 1 : 0);
}

const CLASSES = 4;

function addTo<S>(groups: Map<string, Set<S>>, key: string | undefined, session: S): void {
  if (key === undefined) return;
  let group = groups.get(key);
  if (group === undefined) {
    group = new Set();
    groups.set(key, group);
  }
  group.add(session);
}

function removeFrom<S>(groups: Map<string, Set<S>>, key: string | undefined, session: S): void {
  if (key === undefined) return;
  const group = groups.get(key);
  if (group === undefined) return;
  group.delete(session);
  if (group.size === 0) groups.delete(key);
}

function oldest<S>(group: Set<S> | undefined): S | undefined {
  if (group === undefined) return undefined;
  for (const session of group) return session;
  return undefined;
}

/**
 * The sessions waiting for their client, each in its class and its groups,
 * in the order they began waiting (a `Set` keeps insertion order), so every
 * operation is O(1): no scan of the table, whatever its size.
 */
export class WaitingSessions<S extends WaitingSession> {
  readonly #classes: Set<S>[] = Array.from({ length: CLASSES }, () => new Set<S>());
  readonly #byAddress = new Map<string, Set<S>>();
  readonly #byClient = new Map<string, Set<S>>();

  constructor(
    readonly maxPerAddress: number,
    readonly maxPerClient: number,
  ) {}

  get size(): number {
    let size = 0;
    for (const set of this.#classes) size += set.size;
    return size;
  }

  /** `session` starts waiting for its client: counted against its address and client. */
  add(session: S): void {
    this.#classes[session.evictionClass]!.add(session);
    addTo(this.#byAddress, session.address, session);
    addTo(this.#byClient, session.clientKey, session);
  }

  /** `session` no longer waits (resumed, ended, moved away): its place is given back. */
  remove(session: S): void {
    if (!this.#classes[session.evictionClass]!.delete(session)) return;
    removeFrom(this.#byAddress, session.address, session);
    removeFrom(this.#byClient, session.clientKey, session);
  }

  /**
   * After `add(session)`: the oldest waiter of its address, or else of its
   * client, when that group is now over its bound (it must give way);
   * undefined when both are within. Ask again after each eviction.
   */
  overBound(session: S): S | undefined {
    const address = session.address;
    if (address !== undefined) {
      const group = this.#byAddress.get(address);
      if (group !== undefined && group.size > this.maxPerAddress) return oldest(group);
    }
    const client = session.clientKey;
    if (client !== undefined) {
      const group = this.#byClient.get(client);
      if (group !== undefined && group.size > this.maxPerClient) return oldest(group);
    }
    return undefined;
  }

  /** Every waiting session (a broadcast reaches them); one may end while iterated. */
  *[Symbol.iterator](): IterableIterator<S> {
    for (const set of this.#classes) yield* set;
  }

  /** The session that gives way when the table is full: the lowest class's oldest; undefined if none waits. */
  next(): S | undefined {
    for (const set of this.#classes) {
      const first = oldest(set);
      if (first !== undefined) return first;
    }
    return undefined;
  }
}
