import type { LogFields, Logger } from '../logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LineLoggerOptions {
  /** Receives each finished line (without newline). */
  readonly write: (line: string) => void;
  readonly format?: 'human' | 'json';
  readonly level?: LogLevel;
  readonly now?: () => Date;
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** `2026-11-21 14:07:00` in UTC, the reference's timestamp style. */
function stamp(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

/**
 * A logger writing one line per call: human lines (`2026-11-21 14:07:00 INFO
 * message key=value`) that keep the reference's greppable phrases intact, or
 * JSON lines for log shippers.
 */
export function createLineLogger(options: LineLoggerOptions): Logger {
  const { write, format = 'human', level = 'info', now = () => new Date() } = options;
  const emit = (lvl: LogLevel) => (message: string, fields: LogFields = {}) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const at = now();
    if (format === 'json') {
      write(stringify({ time: at.toISOString(), level: lvl, message, ...fields }));
      return;
    }
    const extras = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : stringify(v)}`)
      .join(' ');
    write(`${stamp(at)} ${lvl.toUpperCase().padEnd(5)} ${message}${extras ? `  ${extras}` : ''}`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
