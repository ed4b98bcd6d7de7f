import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OffloadError, parseMicros, type OffloadConfig, type TableConfig } from '@coldtier/offload-core';

/** Bad arguments: reported as one line with exit code 2. */
export class UsageError extends OffloadError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('config', message, options);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command that touches the pipeline accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'state-dir': { type: 'string' },
  'log-format': { type: 'string' },
  'log-file': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const COMMON_HELP = `Common options:
  -c, --config FILE      YAML/JSON config (default: the embedded single-machine setup)
      --state-dir DIR    where the embedded setup keeps its data (default ./.coldtier)
      --log-format F     human (default) or json
      --log-file PATH    also append log lines to PATH
  -v, --verbose          debug logging; stack traces on errors
  -h, --help             this help`;

/** `parseArgs` with strict checking, turning its errors into a `UsageError`. */
export function parse<O extends Options>(
  argv: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (cause) {
    throw new UsageError((cause as Error).message, { cause });
  }
}

/** An ISO-8601 instant (`2026-01-01`, `2026-01-01T10:00:00Z`, with offset) as a Date. */
export function parseInstant(flag: string, text: string | undefined): Date {
  if (text === undefined) throw new UsageError(`missing --${flag} (an ISO-8601 date or instant, e.g. 2026-01-01T00:00:00Z)`);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const invalid = new UsageError(`invalid --${flag} ${JSON.stringify(text)}: expected an ISO-8601 date or instant with zone, e.g. 2026-01-01 or 2026-01-01T00:00:00Z`);
  try {
    const micros = parseMicros(dateOnly ? `${text}T00:00:00Z` : text);
    return new Date(Number(micros / 1000n));
  } catch {
    throw invalid;
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest duration a flag takes: ten years keeps every date arithmetic valid. */
const MAX_DURATION_MS = 3650 * UNIT_MS['d']!;

/** `90s`, `15m`, `1h`, `2d` in milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text);
  const ms = match ? Number(match[1]) * UNIT_MS[match[2]!]! : NaN;
  if (!(ms > 0 && ms <= MAX_DURATION_MS)) throw new UsageError(`invalid --${flag} ${JSON.stringify(text)}: expected a duration such as 30m, 1h or 1d, at most 3650d`);
  return ms;
}

/** A positive number from a flag, at most `max`. */
export function parsePositive(flag: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(Number.isFinite(value) && value > 0 && value <= max)) throw new UsageError(`invalid --${flag} ${JSON.stringify(text)}: expected a positive number up to ${max}`);
  return value;
}

/** A TCP port (0 picks a free one). */
export function parsePort(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= 0 && value < 65536)) throw new UsageError(`invalid --port ${JSON.stringify(text)}: expected 0-65535`);
  return value;
}

/** The configured table called `name`, or a usage error listing the known ones. */
export function findTable(config: OffloadConfig, name: string | undefined): TableConfig {
  const known = config.tables.map((t) => t.name).join(', ');
  if (name === undefined) throw new UsageError(`missing --table (one of: ${known})`);
  const table = config.tables.find((t) => t.name === name);
  if (!table) throw new UsageError(`unknown table ${JSON.stringify(name)}: configured tables are ${known}`);
  return table;
}
