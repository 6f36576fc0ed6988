/**
 * What the bench's child processes and the load generator say to each other over Node's IPC channel:
 * the service (the local runtime) and the baseline (oidc-provider alone) each run in a process of their
 * own, so that neither shares an event loop with the load generator that measures them (issue 16).
 */

/** Sent once by a child when it listens. */
export interface Ready {
  type: 'ready';
  baseUrl: string;
  /** The service's `credentials.json`; the baseline's client. */
  credentials: Record<string, unknown>;
}

/** What a child counted since the last reset, and its memory now. */
export interface Counts {
  type: 'counts';
  /** DynamoDB operations served (the embedded DynamoDB's own count: every function's calls). */
  dynamo: Record<string, number>;
  /** KMS operations served by the emulator. */
  kms: Record<string, number>;
  rssBytes: number;
  /** CPU time the process has used since it started (user + system, every thread), µs. */
  cpuMicros: number;
}

export type ToChild = { type: 'counts' } | { type: 'reset' } | { type: 'close' };
export type FromChild = Ready | Counts | { type: 'closed' };

/** The total of a count record (`{ Query: 2, GetItem: 3 }` → 5). */
export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** The redirect URI both sides' bench platform registers. */
export const baselineRedirectUri = 'https://platform.bench.example/cb';
