import type { CliIo } from '../cli/io.js';

const BAR = 30;

/**
 * Progress on stderr: a status redrawn in place on a terminal, plain lines
 * otherwise (log files, CI, systemd), which stay greppable.
 */
export class ProgressWriter {
  readonly #io: CliIo;
  #drawn = false;

  constructor(io: CliIo) {
    this.#io = io;
  }

  /** In place on a terminal (`inPlace`), else `line` as a line of its own. */
  status(inPlace: string, line: string): void {
    if (!this.#io.errIsTty) {
      this.line(line);
      return;
    }
    this.#io.err(`\r${inPlace}`);
    this.#drawn = true;
  }

  /** A line of its own, after the status drawn in place, if any. */
  line(text: string): void {
    this.#io.err(`${this.#drawn ? '\n' : ''}${text}\n`);
    this.#drawn = false;
  }
}

/** Backfill progress: a bar on a terminal, a line per chunk elsewhere. */
export class Progress {
  readonly #writer: ProgressWriter;
  readonly #table: string;

  constructor(io: CliIo, table: string) {
    this.#writer = new ProgressWriter(io);
    this.#table = table;
  }

  update(chunk: number, chunks: number, upTo: Date, rows: number): void {
    const when = upTo.toISOString();
    const filled = Math.round((chunk / chunks) * BAR);
    const percent = Math.floor((chunk / chunks) * 100);
    this.#writer.status(
      `[${'#'.repeat(filled)}${' '.repeat(BAR - filled)}] ${String(percent).padStart(3)}% ${this.#table} up to ${when} (${rows} rows)`,
      `Backfill ${this.#table}: chunk ${chunk}/${chunks} done, up to ${when}, ${rows} rows so far`,
    );
  }

  done(message: string): void {
    this.#writer.line(`Backfill ${this.#table}: ${message}`);
  }

  fail(message: string): void {
    this.#writer.line(`Backfill ${this.#table} stopped: ${message}`);
  }
}
