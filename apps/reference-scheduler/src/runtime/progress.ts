import type { CliIo } from '../cli/io.js';

const BAR = 30;

/**
 * Backfill progress: a bar redrawn in place on a terminal, plain lines
 * otherwise (log files, CI, systemd), which stay greppable.
 */
export class Progress {
  readonly #io: CliIo;
  readonly #table: string;
  #drawn = false;

  constructor(io: CliIo, table: string) {
    this.#io = io;
    this.#table = table;
  }

  update(chunk: number, chunks: number, upTo: Date, rows: number): void {
    const when = upTo.toISOString();
    if (!this.#io.errIsTty) {
      this.#io.err(`Backfill ${this.#table}: chunk ${chunk}/${chunks} done, up to ${when}, ${rows} rows so far\n`);
      return;
    }
    const filled = Math.round((chunk / chunks) * BAR);
    const percent = Math.floor((chunk / chunks) * 100);
    this.#io.err(`\r[${'#'.repeat(filled)}${' '.repeat(BAR - filled)}] ${String(percent).padStart(3)}% ${this.#table} up to ${when} (${rows} rows)`);
    this.#drawn = true;
  }

  done(message: string): void {
    this.#finish(`Backfill ${this.#table}: ${message}`);
  }

  fail(message: string): void {
    this.#finish(`Backfill ${this.#table} stopped: ${message}`);
  }

  #finish(line: string): void {
    this.#io.err(`${this.#drawn ? '\n' : ''}${line}\n`);
    this.#drawn = false;
  }
}
