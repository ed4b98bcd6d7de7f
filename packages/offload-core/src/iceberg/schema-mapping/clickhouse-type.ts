import { OffloadError } from '../../errors.js';

/**
 * ClickHouse column types as a small AST, parsed from the type strings
 * `DESCRIBE TABLE` and `system.columns` print (`Nullable(Decimal(18, 8))`,
 * `Map(String, Array(Tuple(a Int32, b String)))`, `DateTime64(3, 'UTC')`).
 */
export type ClickHouseType =
  | { readonly kind: 'int'; readonly signed: boolean; readonly bits: 8 | 16 | 32 | 64 | 128 | 256 }
  | { readonly kind: 'float'; readonly bits: 32 | 64 }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'string' }
  | { readonly kind: 'fixedString'; readonly length: number }
  | { readonly kind: 'enum'; readonly bits: 8 | 16; readonly values: ReadonlyMap<string, number> }
  | { readonly kind: 'uuid' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'date'; readonly wide: boolean }
  | { readonly kind: 'dateTime'; readonly timezone?: string }
  | { readonly kind: 'dateTime64'; readonly precision: number; readonly timezone?: string }
  | { readonly kind: 'nullable'; readonly inner: ClickHouseType }
  | { readonly kind: 'lowCardinality'; readonly inner: ClickHouseType }
  | { readonly kind: 'array'; readonly element: ClickHouseType }
  | { readonly kind: 'map'; readonly key: ClickHouseType; readonly value: ClickHouseType }
  | { readonly kind: 'tuple'; readonly elements: readonly TupleElement[]; readonly named: boolean };

export interface TupleElement {
  /** The element's name; unnamed tuples number their elements from `1` as ClickHouse does. */
  readonly name: string;
  readonly type: ClickHouseType;
}

/** A type string this code cannot parse or does not support. */
export class ClickHouseTypeError extends OffloadError {
  readonly typeText: string;
  constructor(typeText: string, reason: string, options: { table?: string; cause?: unknown } = {}) {
    super('schema', `unsupported ClickHouse type ${JSON.stringify(typeText)}: ${reason}`, options);
    this.typeText = typeText;
  }
}

type Token = { kind: 'word'; text: string } | { kind: 'number'; text: string } | { kind: 'string'; text: string } | { kind: 'punct'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')' || c === ',' || c === '=') {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else if (c === "'" || c === '`' || c === '"') {
      let out = '';
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        // A doubled quote is an escaped quote (SQL style), as is a backslashed one.
        else if (text[j] === c && text[j + 1] === c) j++;
        else if (text[j] === c) break;
        out += text[j];
      }
      if (j >= text.length) throw new ClickHouseTypeError(text, 'unterminated quote');
      // Backticked and double-quoted text are identifiers (tuple element names); single quotes are literals.
      tokens.push(c === "'" ? { kind: 'string', text: out } : { kind: 'word', text: out });
      i = j + 1;
    } else {
      const m = /^-?[0-9]+|^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
      if (!m) throw new ClickHouseTypeError(text, `unexpected ${JSON.stringify(c)} at ${i}`);
      tokens.push({ kind: /^-?[0-9]/.test(m[0]) ? 'number' : 'word', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  fail(reason: string): never {
    throw new ClickHouseTypeError(this.text, reason);
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  next(): Token {
    return this.tokens[this.pos++] ?? this.fail('unexpected end');
  }

  expect(text: string): void {
    const t = this.next();
    if (t.text !== text || t.kind === 'string') this.fail(`expected ${JSON.stringify(text)}, found ${JSON.stringify(t.text)}`);
  }

  accept(text: string): boolean {
    const t = this.peek();
    if (t && t.kind === 'punct' && t.text === text) {
      this.pos++;
      return true;
    }
    return false;
  }

  int(): number {
    const t = this.next();
    if (t.kind !== 'number') this.fail(`expected a number, found ${JSON.stringify(t.text)}`);
    return Number(t.text);
  }

  string(): string {
    const t = this.next();
    if (t.kind !== 'string') this.fail(`expected a quoted string, found ${JSON.stringify(t.text)}`);
    return t.text;
  }

  done(): void {
    if (this.pos !== this.tokens.length) this.fail(`unexpected ${JSON.stringify(this.tokens[this.pos]!.text)}`);
  }

  /** `(a, b, ...)` where each item is parsed by `item`. */
  args<T>(item: () => T): T[] {
    this.expect('(');
    const out: T[] = [];
    if (this.accept(')')) return out;
    do out.push(item());
    while (this.accept(','));
    this.expect(')');
    return out;
  }

  type(): ClickHouseType {
    const name = this.next();
    if (name.kind !== 'word') this.fail(`expected a type name, found ${JSON.stringify(name.text)}`);
    const int = /^(U?)Int(8|16|32|64|128|256)$/.exec(name.text);
    if (int) return { kind: 'int', signed: int[1] === '', bits: Number(int[2]) as 8 | 16 | 32 | 64 | 128 | 256 };
    switch (name.text) {
      case 'Float32':
      case 'Float64':
        return { kind: 'float', bits: name.text === 'Float32' ? 32 : 64 };
      case 'Decimal': {
        const [precision, scale = 0] = this.args(() => this.int());
        return this.decimal(precision ?? this.fail('Decimal needs a precision'), scale);
      }
      case 'Decimal32':
      case 'Decimal64':
      case 'Decimal128':
      case 'Decimal256': {
        const [scale] = this.args(() => this.int());
        const precision = { Decimal32: 9, Decimal64: 18, Decimal128: 38, Decimal256: 76 }[name.text];
        return this.decimal(precision, scale ?? this.fail(`${name.text} needs a scale`));
      }
      case 'String':
        return { kind: 'string' };
      case 'FixedString': {
        const [length] = this.args(() => this.int());
        return { kind: 'fixedString', length: length ?? this.fail('FixedString needs a length') };
      }
      case 'Enum8':
      case 'Enum16': {
        const values = new Map<string, number>();
        for (const [label, value] of this.args(() => {
          const label = this.string();
          this.expect('=');
          return [label, this.int()] as const;
        })) {
          values.set(label, value);
        }
        return { kind: 'enum', bits: name.text === 'Enum8' ? 8 : 16, values };
      }
      case 'UUID':
        return { kind: 'uuid' };
      case 'Bool':
      case 'Boolean':
        return { kind: 'bool' };
      case 'Date':
      case 'Date32':
        return { kind: 'date', wide: name.text === 'Date32' };
      case 'DateTime': {
        if (this.peek()?.text !== '(') return { kind: 'dateTime' };
        const [timezone] = this.args(() => this.string());
        return timezone === undefined ? { kind: 'dateTime' } : { kind: 'dateTime', timezone };
      }
      case 'DateTime64': {
        this.expect('(');
        const precision = this.int();
        const timezone = this.accept(',') ? this.string() : undefined;
        this.expect(')');
        if (precision < 0 || precision > 9) this.fail('DateTime64 precision must be 0..9');
        return timezone === undefined ? { kind: 'dateTime64', precision } : { kind: 'dateTime64', precision, timezone };
      }
      case 'Nullable':
      case 'LowCardinality': {
        const [inner, ...rest] = this.args(() => this.type());
        if (!inner || rest.length) this.fail(`${name.text} takes one type`);
        return { kind: name.text === 'Nullable' ? 'nullable' : 'lowCardinality', inner };
      }
      case 'Array': {
        const [element, ...rest] = this.args(() => this.type());
        if (!element || rest.length) this.fail('Array takes one type');
        return { kind: 'array', element };
      }
      case 'Map': {
        const [key, value, ...rest] = this.args(() => this.type());
        if (!key || !value || rest.length) this.fail('Map takes a key and a value type');
        return { kind: 'map', key, value };
      }
      case 'Tuple':
        return this.tuple();
      default:
        return this.fail(`type ${name.text} has no Iceberg mapping`);
    }
  }

  decimal(precision: number, scale: number): ClickHouseType {
    if (precision < 1 || precision > 76 || scale < 0 || scale > precision) this.fail(`invalid Decimal(${precision}, ${scale})`);
    return { kind: 'decimal', precision, scale };
  }

  tuple(): ClickHouseType {
    let index = 0;
    let named = false;
    const elements = this.args((): TupleElement => {
      index++;
      const first = this.peek();
      const second = this.tokens[this.pos + 1];
      // `name Type` (two words in a row) names the element; a lone type does not.
      if (first?.kind === 'word' && second?.kind === 'word') {
        this.pos++;
        named = true;
        return { name: first.text, type: this.type() };
      }
      return { name: String(index), type: this.type() };
    });
    if (elements.length === 0) this.fail('empty Tuple');
    return { kind: 'tuple', elements, named };
  }
}

/** Parses a ClickHouse type string; throws {@link ClickHouseTypeError} for types without an Iceberg mapping. */
export function parseClickHouseType(text: string): ClickHouseType {
  const parser = new Parser(text, tokenize(text));
  const type = parser.type();
  parser.done();
  return type;
}

/** Renders a type back to ClickHouse syntax (used for CAST targets and query parameters). */
export function formatClickHouseType(type: ClickHouseType): string {
  const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  switch (type.kind) {
    case 'int':
      return `${type.signed ? '' : 'U'}Int${type.bits}`;
    case 'float':
      return `Float${type.bits}`;
    case 'decimal':
      return `Decimal(${type.precision}, ${type.scale})`;
    case 'string':
      return 'String';
    case 'fixedString':
      return `FixedString(${type.length})`;
    case 'enum':
      return `Enum${type.bits}(${[...type.values].map(([k, v]) => `${quote(k)} = ${v}`).join(', ')})`;
    case 'uuid':
      return 'UUID';
    case 'bool':
      return 'Bool';
    case 'date':
      return type.wide ? 'Date32' : 'Date';
    case 'dateTime':
      return type.timezone === undefined ? 'DateTime' : `DateTime(${quote(type.timezone)})`;
    case 'dateTime64':
      return `DateTime64(${type.precision}${type.timezone === undefined ? '' : `, ${quote(type.timezone)}`})`;
    case 'nullable':
      return `Nullable(${formatClickHouseType(type.inner)})`;
    case 'lowCardinality':
      return `LowCardinality(${formatClickHouseType(type.inner)})`;
    case 'array':
      return `Array(${formatClickHouseType(type.element)})`;
    case 'map':
      return `Map(${formatClickHouseType(type.key)}, ${formatClickHouseType(type.value)})`;
    case 'tuple':
      return `Tuple(${type.elements
        .map((e) => (type.named ? `\`${e.name.replace(/`/g, '``')}\` ${formatClickHouseType(e.type)}` : formatClickHouseType(e.type)))
        .join(', ')})`;
  }
}

/** Strips `LowCardinality` and `Nullable` wrappers, reporting whether the value may be null. */
export function unwrapClickHouseType(type: ClickHouseType): { type: ClickHouseType; nullable: boolean } {
  let nullable = false;
  let t = type;
  for (;;) {
    if (t.kind === 'nullable') nullable = true;
    else if (t.kind !== 'lowCardinality') return { type: t, nullable };
    t = t.inner;
  }
}
