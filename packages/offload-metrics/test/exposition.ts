/** A small parser of the Prometheus / OpenMetrics text exposition, for assertions. */

export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  /** Metric family name → declared type. */
  readonly types: ReadonlyMap<string, string>;
  readonly help: ReadonlyMap<string, string>;
  readonly samples: readonly ParsedSample[];
  readonly eof: boolean;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

const unescape = (value: string): string => value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const value = Number(text);
  if (Number.isNaN(value) && text !== 'NaN') throw new Error(`bad sample value ${text}`);
  return value;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: ParsedSample[] = [];
  let eof = false;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (eof) throw new Error(`content after # EOF: ${line}`);
    if (line === '# EOF') {
      eof = true;
      continue;
    }
    const meta = /^# (TYPE|HELP) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'TYPE' ? types : help).set(meta[2]!, meta[3]!);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = unescape(value!);
    samples.push({ name: match[1]!, labels, value: parseValue(match[3]!) });
  }
  return { types, help, samples, eof };
}

/** Samples named `name` whose labels include `labels`. */
export function samplesOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): ParsedSample[] {
  return exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with exactly `labels`. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const keys = Object.keys(labels).length;
  const found = samplesOf(exposition, name, labels).filter((s) => Object.keys(s.labels).length === keys);
  if (found.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

/** Sorted, distinct label-name sets of a family's samples, ignoring `le` and `quantile`. */
export function labelNameSets(exposition: Exposition, names: readonly string[]): string[] {
  const sets = new Set<string>();
  for (const s of exposition.samples) {
    if (!names.includes(s.name)) continue;
    sets.add(Object.keys(s.labels).filter((k) => k !== 'le' && k !== 'quantile').sort().join(','));
  }
  return [...sets].sort();
}
