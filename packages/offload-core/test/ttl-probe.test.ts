import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedClickHouse, type EmbeddedClickHouse } from '@coldtier/test-support';
import { INITIAL_CURSOR, TtlMonitor, parseConfig, parseMicros, probeTtl, silentLogger, type Cursor, type TableConfig } from '../src/index.js';
import { InMemoryWatermarkStore } from '../src/testing/index.js';

let ch: EmbeddedClickHouse;

const config = parseConfig({
  tables: ['with_ttl', 'no_ttl'].map((name) => ({
    source: `k2.${name}`,
    target: `cold.${name}`,
    layer: 'bronze',
    timestampColumn: 'ts',
    sequenceColumn: 'seq',
  })),
});
const [withTtl, noTtl] = config.tables as [TableConfig, TableConfig];
const columns = { timestamp: 'ts', sequence: 'seq', tieBreakers: [] };
const seconds = (iso: string) => Date.parse(iso) / 1000;
const cursorAt = (iso: string, sequence: bigint): Cursor => ({ timestampMicros: parseMicros(iso), sequence, tieBreakers: [] });

beforeAll(async () => {
  ch = await startEmbeddedClickHouse();
  await ch.client.command({ query: 'CREATE DATABASE k2' });
  // Rows with v > 100 also expire after one day; the rest after seven.
  await ch.client.command({
    query: `CREATE TABLE k2.with_ttl (ts DateTime64(6, 'UTC'), seq UInt64, v UInt32) ENGINE = MergeTree ORDER BY (ts, seq)
      TTL toDateTime(ts) + INTERVAL 7 DAY, toDateTime(ts) + INTERVAL 1 DAY DELETE WHERE v > 100`,
  });
  await ch.client.command({ query: `CREATE TABLE k2.no_ttl (ts DateTime64(6, 'UTC'), seq UInt64, v UInt32) ENGINE = MergeTree ORDER BY (ts, seq)` });
  // Far in the future, so no TTL merge deletes them while the test runs.
  const rows = `('2099-01-01 10:00:00', 1, 1), ('2099-01-01 10:00:00', 2, 500), ('2099-01-01 11:00:00', 3, 1), ('2099-01-02 09:00:00', 4, 1)`;
  await ch.client.command({ query: `INSERT INTO k2.with_ttl VALUES ${rows}` });
  await ch.client.command({ query: `INSERT INTO k2.no_ttl VALUES ${rows}` });
});
afterAll(() => ch.close());

describe('TTL probe on ClickHouse', () => {
  it('evaluates the TTL rules on the first row after the watermark', async () => {
    const afterFirst = await probeTtl({ client: ch.client, table: withTtl, columns, watermark: cursorAt('2099-01-01T10:00:00Z', 1n) });
    // Row 2 has v > 100: its one-day rule comes first.
    expect(afterFirst.pendingDeleteAt).toBe(seconds('2099-01-02T10:00:00Z'));
    const afterSecond = await probeTtl({ client: ch.client, table: withTtl, columns, watermark: cursorAt('2099-01-01T10:00:00Z', 2n) });
    expect(afterSecond.pendingDeleteAt).toBe(seconds('2099-01-08T11:00:00Z'));
    expect(afterSecond.rules).toEqual([
      { expression: 'toDateTime(ts) + toIntervalDay(7)' },
      { expression: 'toDateTime(ts) + toIntervalDay(1)', where: 'v > 100' },
    ]);
    // Parts record the unconditional rule only (row 1's seven days), already offloaded rows included.
    expect(afterSecond.earliestPartDeleteAt).toBe(seconds('2099-01-08T10:00:00Z'));
    expect(Math.abs(afterSecond.probedAt - Date.now() / 1000)).toBeLessThan(600);
  });

  it('finds nothing waiting once every row is offloaded, and no rules on a table without TTL', async () => {
    const caughtUp = await probeTtl({ client: ch.client, table: withTtl, columns, watermark: cursorAt('2099-01-02T09:00:00Z', 4n) });
    expect(caughtUp.pendingDeleteAt).toBeNull();
    expect(caughtUp.rules).toHaveLength(2);
    const none = await probeTtl({ client: ch.client, table: noTtl, columns, watermark: INITIAL_CURSOR });
    expect(none).toMatchObject({ rules: [], pendingDeleteAt: null, earliestPartDeleteAt: null });
  });

  it('monitors every table against its committed watermark', async () => {
    const store = new InMemoryWatermarkStore();
    await store.ensureTables(['with_ttl', 'no_ttl']);
    await store.fastForward('with_ttl', cursorAt('2099-01-01T11:00:00Z', 3n));
    const monitor = new TtlMonitor({ client: ch.client, tables: config.tables, watermarks: store });
    const probes = await monitor.probe();
    expect(probes.map((p) => [p.table, p.pendingDeleteAt])).toEqual([
      ['with_ttl', seconds('2099-01-09T09:00:00Z')],
      ['no_ttl', null],
    ]);
  });

  it('keeps the last probe of a table it cannot probe, and says so once', async () => {
    const store = new InMemoryWatermarkStore();
    await store.ensureTables(['with_ttl', 'gone']);
    const gone = parseConfig({ tables: [{ source: 'k2.gone', target: 'cold.gone', layer: 'bronze', timestampColumn: 'ts', sequenceColumn: 'seq' }] }).tables[0]!;
    await ch.client.command({ query: 'CREATE TABLE k2.gone AS k2.with_ttl' });
    await ch.client.command({ query: "INSERT INTO k2.gone VALUES ('2099-03-01 00:00:00', 1, 1)" });
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => warnings.push(message) };
    const monitor = new TtlMonitor({ client: ch.client, tables: [withTtl, gone], watermarks: store, logger });
    const before = await monitor.probe();
    await ch.client.command({ query: 'DROP TABLE k2.gone' });
    const after = [await monitor.probe(), await monitor.probe()];
    expect(after[1]).toEqual(before.map((p) => ({ ...p, probedAt: expect.any(Number) })));
    expect(after[1]!.find((p) => p.table === 'gone')?.pendingDeleteAt).toBe(seconds('2099-03-08T00:00:00Z'));
    expect(warnings).toEqual(['TTL headroom of gone not probed, using the last probe']);
  });
});
