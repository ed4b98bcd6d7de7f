import type { MaintenanceProgress } from '@coldtier/offload-core';
import type { CliIo } from '../cli/io.js';

/**
 * `coldtier maintain` progress: one line per action on a log (greppable),
 * with compaction's file groups counted in place on a terminal.
 */
export class MaintenanceProgressDisplay {
  readonly #io: CliIo;
  readonly #table: string;
  #drawn = false;

  constructor(io: CliIo, table: string) {
    this.#io = io;
    this.#table = table;
  }

  readonly update = (event: MaintenanceProgress): void => {
    switch (event.kind) {
      case 'start':
        this.#line(`Maintain ${this.#table}: ${event.action}...`);
        return;
      case 'step':
        if (this.#io.errIsTty) {
          this.#io.err(`\rMaintain ${this.#table}: ${event.action} ${event.done}/${event.total} file groups rewritten`);
          this.#drawn = true;
        } else {
          this.#line(`Maintain ${this.#table}: ${event.action} ${event.done}/${event.total} file groups rewritten`);
        }
        return;
      case 'end': {
        const { action, status, durationSeconds } = event.outcome;
        const why = typeof event.outcome.detail === 'string' ? ` (${event.outcome.detail})` : '';
        this.#line(`Maintain ${this.#table}: ${action} ${status} in ${durationSeconds.toFixed(1)}s${why}`);
        return;
      }
    }
  };

  #line(text: string): void {
    this.#io.err(`${this.#drawn ? '\n' : ''}${text}\n`);
    this.#drawn = false;
  }
}
