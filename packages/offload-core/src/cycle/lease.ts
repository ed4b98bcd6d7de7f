import { LeaseUnavailableError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Lease, WatermarkStore } from '../watermark/store.js';

/**
 * Holds a table's lease while its run lasts and, when the run may outlive
 * the lease's time to live, renews it every third of that time. Renewal that
 * finds the lease taken over calls `onLost` (the run must stop: its writes
 * would be refused); other renewal errors are logged and retried at the next
 * tick, since the lease is still valid until it expires.
 */
export class LeaseKeeper {
  readonly #store: WatermarkStore;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #onLost: (error: LeaseUnavailableError) => void;
  #lease: Lease;
  #timer: ReturnType<typeof setInterval> | undefined;
  #renewing: Promise<void> | undefined;

  constructor(store: WatermarkStore, lease: Lease, ttlMs: number, logger: Logger, onLost: (error: LeaseUnavailableError) => void) {
    this.#store = store;
    this.#lease = lease;
    this.#ttlMs = ttlMs;
    this.#logger = logger;
    this.#onLost = onLost;
  }

  /** The lease as last renewed. */
  get lease(): Lease {
    return this.#lease;
  }

  /** Starts renewing if the run may last `budgetMs` or more, longer than the lease lives. */
  keepFor(budgetMs: number): void {
    if (budgetMs < this.#ttlMs || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#renew(), Math.max(1, Math.floor(this.#ttlMs / 3)));
  }

  /** Stops renewing, waiting for a renewal under way so the returned lease is current. */
  async stop(): Promise<Lease> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#renewing;
    return this.#lease;
  }

  #renew(): void {
    if (this.#renewing) return;
    this.#renewing = this.#store
      .renewLease(this.#lease, this.#ttlMs)
      .then(
        (lease) => {
          this.#lease = lease;
        },
        (error: unknown) => {
          if (error instanceof LeaseUnavailableError) {
            clearInterval(this.#timer);
            this.#timer = undefined;
            this.#onLost(error);
          } else {
            this.#logger.warn('lease renewal failed; retrying at the next tick', { table: this.#lease.table, error: messageOf(error) });
          }
        },
      )
      .finally(() => {
        this.#renewing = undefined;
      });
  }
}
