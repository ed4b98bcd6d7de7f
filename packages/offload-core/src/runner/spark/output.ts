/**
 * A job's output is unbounded (Spark logs generously); what a failure message
 * needs is its end. `OutputTail` keeps the last lines within a byte and a line
 * budget; `LineSplitter` turns chunks into lines without holding an endless
 * line in memory.
 */
export class OutputTail {
  readonly #maxBytes: number;
  readonly #maxLines: number;
  readonly #lines: string[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(maxBytes: number, maxLines: number) {
    this.#maxBytes = maxBytes;
    this.#maxLines = maxLines;
  }

  push(line: string): void {
    const kept = line.length > this.#maxBytes ? line.slice(line.length - this.#maxBytes) : line;
    this.#lines.push(kept);
    this.#bytes += kept.length + 1;
    while (this.#lines.length > this.#maxLines || (this.#bytes > this.#maxBytes && this.#lines.length > 1)) {
      this.#bytes -= this.#lines.shift()!.length + 1;
      this.#dropped++;
    }
  }

  /** The kept lines joined by newlines, preceded by a note when earlier lines were dropped. */
  text(): string {
    const body = this.#lines.join('\n');
    return this.#dropped > 0 ? `[${this.#dropped} earlier lines omitted]\n${body}` : body;
  }
}

/** Longest line handed on whole; longer runs without a newline are cut into pieces this size. */
export const MAX_LINE_CHARS = 1024 * 1024;

export class LineSplitter {
  readonly #onLine: (line: string) => void;
  #partial = '';

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  write(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop()!;
    for (const part of parts) this.#emit(part);
    while (this.#partial.length > MAX_LINE_CHARS) {
      this.#onLine(this.#partial.slice(0, MAX_LINE_CHARS));
      this.#partial = this.#partial.slice(MAX_LINE_CHARS);
    }
  }

  /** Hands on the last line when the stream ended without a newline. */
  end(): void {
    if (this.#partial.length > 0) this.#emit(this.#partial);
    this.#partial = '';
  }

  #emit(line: string): void {
    this.#onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}
