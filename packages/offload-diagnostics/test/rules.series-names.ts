import { createOffloadMetrics } from '@coldtier/offload-metrics';
import { RECORDING_RULE_NAMES, UP } from '../src/rules/index.js';

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'Inf', 'NaN']);

/**
 * The series names a PromQL expression selects: identifiers that are not
 * functions, keywords, label names or inside strings and ranges.
 */
export function seriesNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const before = stripped[match.index - 1] ?? ' ';
    const after = stripped.slice(match.index + match[0].length).trimStart();
    if (/[0-9.]/.test(before) || after.startsWith('(') || KEYWORDS.has(match[0])) continue;
    names.push(match[0]);
  }
  return names;
}

/**
 * Every series name a scrape of the real exporter yields once each metric
 * has a value, plus `up` and the recording rules: all a query may name.
 */
export async function queryableSeriesNames(): Promise<ReadonlySet<string>> {
  const metrics = createOffloadMetrics({
    tables: [{ name: 'bronze_trades_binance', layer: 'bronze' }],
    version: '0.0.0-test',
    scheduleMinutes: 15,
  });
  metrics.rowsPerSecond.observe({ table: 'bronze_trades_binance' }, 200_000);
  metrics.lastRowsPerSecond.set({ table: 'bronze_trades_binance' }, 200_000);
  metrics.lastBatchRows.set({ table: 'bronze_trades_binance' }, 2_400_000);
  metrics.lastBatchDurationSeconds.set({ table: 'bronze_trades_binance' }, 12);
  metrics.cycleDurationSeconds.observe(12);
  metrics.lastCycleDurationSeconds.set(12);
  metrics.ttlHeadroomSeconds.set({ table: 'bronze_trades_binance' }, 600_000);
  metrics.ttlGuardActionsTotal.inc({ table: 'bronze_trades_binance', action: 'stop', outcome: 'done' });
  const text = await metrics.registry.metrics();
  const scraped = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]);
  return new Set([...scraped, UP, ...RECORDING_RULE_NAMES]);
}
