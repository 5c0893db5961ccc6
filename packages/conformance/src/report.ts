// The suite runner and its TAP output: one line per case (`ok`, `not ok`,
// `ok … # SKIP reason`), a diagnostic block under each failure, and the
// final plain line `N passed, N failed[, N skipped]`.

/** Thrown by a case to say it cannot run here, and why (reported `# SKIP`, never as a pass). */
export class Skip extends Error {
  readonly code = "skip";
}

/** A failed expectation of the contract (a case's assertion). */
export class Violation extends Error {
  readonly code = "violation";
}

/** One rule of the contract, checked over the wire. */
export interface Case<TContext> {
  /** Stable id, e.g. `heartbeat.silence-closes-4000`: `--only` selects by it. */
  readonly id: string;
  /** What the rule says, in one line (the TAP description). */
  readonly title: string;
  /** The PROTOCOL.md section the rule is in. */
  readonly section: string;
  /** Throws `Violation` (or anything) to fail, `Skip` to skip. */
  run(context: TContext): Promise<void>;
}

/** How a case ended. */
export type CaseStatus = "passed" | "failed" | "skipped";

/** One case's verdict. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly status: CaseStatus;
  /** Why it failed or was skipped. */
  readonly detail?: string;
  readonly durationMs: number;
}

/** Every case's verdict and the counts of the final line. */
export interface SuiteResult {
  readonly cases: readonly CaseResult[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/** Which cases run and where their TAP goes. */
export interface RunOptions {
  /** Only the cases whose id is listed, or starts with a listed prefix ending in `.`. */
  readonly only?: readonly string[];
  /** Where TAP lines go. Default: nowhere. */
  readonly write?: (line: string) => void;
  /** A case that has not settled by then fails. Default 30,000 ms. */
  readonly caseTimeoutMs?: number;
}

/** Throws a `Violation` with `message` unless `condition` holds. */
export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Violation(message);
}

function selected(id: string, only: readonly string[] | undefined): boolean {
  if (only === undefined || only.length === 0) return true;
  return only.some((o) => o === id || (o.endsWith(".") && id.startsWith(o)));
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Violation(`no verdict within ${ms} ms`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/** Runs the cases one after another (each may use the real clock), writing TAP as it goes. */
export async function runCases<TContext>(
  cases: readonly Case<TContext>[],
  context: TContext,
  options: RunOptions = {},
): Promise<SuiteResult> {
  const write = options.write ?? (() => {});
  const chosen = cases.filter((c) => selected(c.id, options.only));
  write("TAP version 13");
  write(`1..${chosen.length}`);
  const results: CaseResult[] = [];
  for (const [index, c] of chosen.entries()) {
    const started = performance.now();
    let status: CaseStatus = "passed";
    let detail: string | undefined;
    try {
      await withTimeout(c.run(context), options.caseTimeoutMs ?? 30_000);
    } catch (error) {
      if (error instanceof Skip) {
        status = "skipped";
      } else {
        status = "failed";
      }
      detail = error instanceof Error ? error.message : String(error);
    }
    const durationMs = Math.round(performance.now() - started);
    const n = index + 1;
    const name = `${c.id}: ${c.title}`;
    if (status === "passed") write(`ok ${n} - ${name}`);
    else if (status === "skipped") write(`ok ${n} - ${name} # SKIP ${detail}`);
    else {
      write(`not ok ${n} - ${name}`);
      write("  ---");
      write(`  message: ${JSON.stringify(detail)}`);
      write(`  section: ${JSON.stringify(c.section)}`);
      write(`  duration_ms: ${durationMs}`);
      write("  ...");
    }
    results.push({ id: c.id, title: c.title, status, durationMs, ...(detail ? { detail } : {}) });
  }
  const count = (s: CaseStatus) => results.filter((r) => r.status === s).length;
  const summary = { passed: count("passed"), failed: count("failed"), skipped: count("skipped") };
  write(
    `${summary.passed} passed, ${summary.failed} failed` +
      (summary.skipped > 0 ? `, ${summary.skipped} skipped` : ""),
  );
  return { cases: results, ...summary };
}
