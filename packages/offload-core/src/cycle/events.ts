import type { Layer } from '../config/index.js';
import type { JobErrorType } from '../errors.js';
import type { JobResult } from '../runner/contract.js';
import type { Cursor } from '../watermark/cursor.js';
import type { OffloadWindow } from '../watermark/window.js';
import type { CycleReport, SkipReason } from './report.js';

interface TableEventBase {
  readonly cycleId: string;
  readonly table: string;
  readonly layer: Layer;
  readonly at: Date;
}

/** What the orchestrator reports as it works; metrics and logs subscribe to these. */
export type OffloadEvent =
  | { readonly type: 'cycle_started'; readonly cycleId: string; readonly at: Date; readonly tables: readonly string[] }
  | { readonly type: 'cycle_finished'; readonly cycleId: string; readonly at: Date; readonly report: CycleReport }
  | (TableEventBase & { readonly type: 'table_started'; readonly runId: string; readonly window: OffloadWindow; readonly attempt: number })
  | (TableEventBase & {
      readonly type: 'table_succeeded';
      readonly runId: string;
      readonly window: OffloadWindow;
      readonly result: JobResult;
      readonly watermark: Cursor;
      readonly attempts: number;
      /** Wall time from first attempt to watermark advance. */
      readonly durationSeconds: number;
    })
  | (TableEventBase & {
      readonly type: 'table_retrying';
      readonly runId: string;
      readonly attempt: number;
      readonly errorType: JobErrorType;
      readonly message: string;
      readonly delayMs: number;
    })
  | (TableEventBase & {
      readonly type: 'table_failed';
      readonly runId: string;
      readonly errorType: JobErrorType;
      readonly message: string;
      readonly attempts: number;
      readonly durationSeconds: number;
    })
  | (TableEventBase & { readonly type: 'table_skipped'; readonly reason: SkipReason; readonly detail: string });

export type OffloadEventType = OffloadEvent['type'];
export type OffloadEventListener = (event: OffloadEvent) => void;

/**
 * A minimal typed event bus. Listeners run synchronously; one that throws is
 * reported to `onListenerError` and never breaks the cycle.
 */
export class OffloadEvents {
  readonly #listeners = new Set<OffloadEventListener>();
  readonly #onListenerError: (error: unknown, event: OffloadEvent) => void;

  constructor(onListenerError: (error: unknown, event: OffloadEvent) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: OffloadEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: OffloadEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }
}
