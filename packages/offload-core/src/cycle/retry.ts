import { setTimeout as delay } from 'node:timers/promises';
import type { RetryPolicy } from '../config/index.js';

/** Waits `ms`, rejecting early with the signal's reason if it aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

/**
 * The delay before retry number `retryIndex + 1`, p-retry's formula:
 * `minDelay × factor^retryIndex`, times a random factor in [1, 2) when
 * jitter is on, capped at `maxDelay`. `random` returns a value in [0, 1).
 */
export function backoffDelayMs(policy: RetryPolicy, retryIndex: number, random: () => number): number {
  const jitter = policy.jitter ? 1 + random() : 1;
  const raw = Math.round(jitter * policy.minDelaySeconds * 1000 * policy.factor ** retryIndex);
  return Math.min(raw, Math.round(policy.maxDelaySeconds * 1000));
}

/** Whether a failure may be retried: only errors that say so (`OffloadError.retryable`). */
export function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}
