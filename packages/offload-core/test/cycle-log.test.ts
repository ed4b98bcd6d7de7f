import { describe, expect, it } from 'vitest';
import {
  INITIAL_CURSOR,
  OffloadEvents,
  createLineLogger,
  logOffloadEvents,
  parseConfig,
  type CycleReport,
  type OffloadWindow,
} from '../src/index.js';

const config = parseConfig({
  tables: ['binance', 'kraken', 'coinbase'].map((x) => ({
    source: `k2.bronze_trades_${x}`,
    target: `cold.bronze_trades_${x}`,
    layer: 'bronze',
    timestampColumn: 'exchange_timestamp',
    sequenceColumn: 'sequence_number',
  })),
});
const at = new Date('2026-11-21T14:07:00Z');
const window: OffloadWindow = { after: INITIAL_CURSOR, untilMicros: 1n };
const watermark = { timestampMicros: 1_000_000n, sequence: 7n, tieBreakers: [] };

function capture(format: 'human' | 'json' = 'human') {
  const lines: string[] = [];
  const events = new OffloadEvents();
  const logger = createLineLogger({ write: (l) => lines.push(l), format, now: () => at });
  logOffloadEvents(events, logger, config.tables);
  return { lines, events };
}

const report: CycleReport = {
  cycleId: 'c1',
  status: 'partial',
  startedAt: at,
  finishedAt: at,
  durationSeconds: 12.44,
  totalRows: 3_850_000,
  tables: [
    { status: 'success', table: 'bronze_trades_binance', layer: 'bronze', runId: 'r1', window, rows: 3_850_000, bytes: 1, watermark, snapshotId: null, attempts: 1, durationSeconds: 14.2 },
    { status: 'failed', table: 'bronze_trades_kraken', layer: 'bronze', runId: 'r2', window, errorType: 'timeout', message: 'killed', attempts: 1, durationSeconds: 600 },
    { status: 'failed', table: 'bronze_trades_coinbase', layer: 'bronze', runId: 'r3', window, errorType: 'connection', message: 'refused', attempts: 3, durationSeconds: 1 },
  ],
};

describe('cycle log lines', () => {
  it('keeps the phrases operators grep for', () => {
    const { lines, events } = capture();
    events.emit({ type: 'cycle_started', cycleId: 'c1', at, tables: ['bronze_trades_binance'] });
    events.emit({
      type: 'table_succeeded',
      cycleId: 'c1',
      table: 'bronze_trades_binance',
      layer: 'bronze',
      at,
      runId: 'r1',
      window,
      watermark,
      attempts: 1,
      durationSeconds: 14.2,
      result: { rowsWritten: 3_850_000, maxCursor: watermark, bytesWritten: 1, snapshotId: '42', timings: { startedAt: at, finishedAt: at, durationSeconds: 14.2 } },
    });
    events.emit({ type: 'table_failed', cycleId: 'c1', table: 'bronze_trades_kraken', layer: 'bronze', at, runId: 'r2', errorType: 'timeout', message: 'killed', attempts: 1, durationSeconds: 600 });
    events.emit({ type: 'table_failed', cycleId: 'c1', table: 'bronze_trades_coinbase', layer: 'bronze', at, runId: 'r3', errorType: 'connection', message: 'refused', attempts: 3, durationSeconds: 1 });
    events.emit({ type: 'cycle_finished', cycleId: 'c1', at, report });
    const text = lines.join('\n');
    expect(lines[0]).toMatch(/^2026-11-21 14:07:00 INFO +OFFLOAD CYCLE STARTED/);
    expect(text).toContain('Rows offloaded: 3850000');
    expect(text).toContain('✓ Offload completed: bronze_trades_binance (3,850,000 rows in 14.2s)');
    expect(text).toContain('✗ Offload timeout: bronze_trades_kraken (>10 minutes)');
    expect(text).toContain('✗ Offload failed: bronze_trades_coinbase');
    expect(text).toContain('OFFLOAD CYCLE COMPLETED');
    expect(text).toContain('Duration: 12.4s');
    expect(text).toContain('Success: 1, Failed: 1, Timeout: 1');
    expect(text).toContain('Total rows offloaded: 3850000');
  });

  it('writes JSON lines with structured fields when asked', () => {
    const { lines, events } = capture('json');
    events.emit({ type: 'cycle_finished', cycleId: 'c1', at, report });
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({ level: 'info', message: 'OFFLOAD CYCLE COMPLETED', cycleId: 'c1', status: 'partial', time: at.toISOString() });
  });
});
