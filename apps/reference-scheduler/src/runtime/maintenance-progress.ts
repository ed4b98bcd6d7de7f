import type { MaintenanceProgress } from '@coldtier/offload-core';
import type { CliIo } from '../cli/io.js';
import { ProgressWriter } from './progress.js';

/**
 * `coldtier maintain` progress: one line per action on a log (greppable),
 * with compaction's file groups counted in place on a terminal.
 */
export class MaintenanceProgressDisplay {
  readonly #writer: ProgressWriter;
  readonly #table: string;

  constructor(io: CliIo, table: string) {
    this.#writer = new ProgressWriter(io);
    this.#table = table;
  }

  readonly update = (event: MaintenanceProgress): void => {
    switch (event.kind) {
      case 'start':
        this.#writer.line(`Maintain ${this.#table}: ${event.action}...`);
        return;
      case 'step': {
        const text = `Maintain ${this.#table}: ${event.action} ${event.done}/${event.total} file groups rewritten`;
        this.#writer.status(text, text);
        return;
      }
      case 'end': {
        const { action, status, durationSeconds } = event.outcome;
        const why = typeof event.outcome.detail === 'string' ? ` (${event.outcome.detail})` : '';
        this.#writer.line(`Maintain ${this.#table}: ${action} ${status} in ${durationSeconds.toFixed(1)}s${why}`);
        return;
      }
    }
  };
}
