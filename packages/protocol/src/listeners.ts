// Heartline's one policy for an application listener that throws, shared by
// every package (server, client, redis, testing) so they cannot drift apart:
//
// A listener that throws never disturbs Heartline's own state machine or the
// other listeners. The throw is caught and reported on the same emitter's
// `error` event as an error with the stable code `listener_threw` and the
// original error as `cause`. If an `error` listener itself throws, or no
// `error` listener is registered, the original error is rethrown on a
// microtask, so the platform's uncaught-exception handling sees it, as for any
// callback: never swallowed silently.

/** The stable `code` of the error reported when an application listener threw. */
export const LISTENER_THREW = "listener_threw";

/**
 * Hands `error` to the platform's uncaught-exception handling (Node's
 * `uncaughtException`, a page's `error` event) without unwinding the caller,
 * the way a host treats any callback that throws.
 */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * Applies the policy to `cause`, just caught from a listener. Call it from the
 * `catch` of an emit loop and carry on with the next listener; it never throws.
 *
 * `errorListeners` are the same emitter's `error` listeners; pass `undefined`
 * when the listener that threw was itself an `error` listener (there is no one
 * left to report to). `wrap` builds the package's error (code
 * `listener_threw`, `cause`); it runs only if there is a listener to give it to,
 * and all of them get the same object. `extra` goes to each `error` listener
 * after the error (the server's `conn`), so no closure is made for it.
 *
 * Every `error` listener is called even if one throws. The original error is
 * rethrown on a microtask, once, when nobody took the report or an `error`
 * listener threw; what an `error` listener threw is rethrown too, unless it is
 * the same error (or the report) again.
 */
export function listenerThrew<E, X extends unknown[]>(
  cause: unknown,
  errorListeners: Iterable<(error: E, ...extra: X) => void> | undefined,
  wrap: (cause: unknown) => E,
  ...extra: X
): void {
  let error: E | undefined;
  let failed = false;
  if (errorListeners !== undefined) {
    // A copy: an `error` listener may add or remove listeners.
    for (const listener of [...errorListeners]) {
      if (error === undefined) error = wrap(cause);
      try {
        listener(error, ...extra);
      } catch (thrown) {
        failed = true;
        if (thrown !== cause && thrown !== error) rethrowLater(thrown);
      }
    }
  }
  if (error === undefined || failed) rethrowLater(cause);
}
