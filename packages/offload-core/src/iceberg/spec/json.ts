/**
 * JSON that keeps 64-bit integers exact. Iceberg snapshot ids are random
 * 63-bit longs (`1116539608799933257` in the Spark fixture) that JSON.parse
 * would round, so integers beyond the safe range parse to bigint and bigints
 * print as bare integers.
 */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** Parses JSON text; integers outside Number's safe range become bigint. */
export function parseJson(text: string): JsonValue {
  const parser = new Parser(text);
  const value = parser.value();
  parser.end();
  return value;
}

/** Prints JSON with two-space indentation; bigints print as integers, undefined members are skipped. */
export function stringifyJson(value: unknown): string {
  return print(value, '');
}

function print(value: unknown, indent: string): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot serialise ${value} as JSON`);
    return String(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    return `[ ${value.map((v) => print(v, inner)).join(', ')} ]`;
  }
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (members.length === 0) return '{ }';
    const lines = members.map(([k, v]) => `${inner}${JSON.stringify(k)} : ${print(v, inner)}`);
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  throw new TypeError(`cannot serialise a ${typeof value} as JSON`);
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  #pos = 0;
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }

  value(): JsonValue {
    this.#skip();
    const c = this.#text[this.#pos];
    if (c === '{') return this.#object();
    if (c === '[') return this.#array();
    if (c === '"') return this.#string();
    if (this.#text.startsWith('true', this.#pos)) return this.#literal('true', true);
    if (this.#text.startsWith('false', this.#pos)) return this.#literal('false', false);
    if (this.#text.startsWith('null', this.#pos)) return this.#literal('null', null);
    return this.#number();
  }

  end(): void {
    this.#skip();
    if (this.#pos !== this.#text.length) this.#fail('unexpected trailing text');
  }

  #object(): JsonValue {
    const out: { [key: string]: JsonValue } = {};
    this.#pos++;
    this.#skip();
    if (this.#text[this.#pos] === '}') {
      this.#pos++;
      return out;
    }
    for (;;) {
      this.#skip();
      if (this.#text[this.#pos] !== '"') this.#fail('expected a member name');
      const key = this.#string();
      this.#expect(':');
      out[key] = this.value();
      this.#skip();
      const c = this.#text[this.#pos++];
      if (c === '}') return out;
      if (c !== ',') this.#fail("expected ',' or '}'");
    }
  }

  #array(): JsonValue {
    const out: JsonValue[] = [];
    this.#pos++;
    this.#skip();
    if (this.#text[this.#pos] === ']') {
      this.#pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.#skip();
      const c = this.#text[this.#pos++];
      if (c === ']') return out;
      if (c !== ',') this.#fail("expected ',' or ']'");
    }
  }

  #string(): string {
    const start = this.#pos;
    this.#pos++;
    while (this.#pos < this.#text.length) {
      const c = this.#text[this.#pos];
      if (c === '\\') this.#pos += 2;
      else if (c === '"') {
        this.#pos++;
        return JSON.parse(this.#text.slice(start, this.#pos)) as string;
      } else this.#pos++;
    }
    return this.#fail('unterminated string');
  }

  #number(): number | bigint {
    NUMBER.lastIndex = this.#pos;
    const match = NUMBER.exec(this.#text);
    if (!match) return this.#fail('unexpected token');
    this.#pos += match[0].length;
    const n = Number(match[0]);
    if (/^-?\d+$/.test(match[0]) && !Number.isSafeInteger(n)) return BigInt(match[0]);
    return n;
  }

  #literal<T>(word: string, value: T): T {
    this.#pos += word.length;
    return value;
  }

  #expect(c: string): void {
    this.#skip();
    if (this.#text[this.#pos] !== c) this.#fail(`expected '${c}'`);
    this.#pos++;
  }

  #skip(): void {
    while (/\s/.test(this.#text[this.#pos] ?? '')) this.#pos++;
  }

  #fail(message: string): never {
    throw new SyntaxError(`${message} at position ${this.#pos} of JSON text`);
  }
}
