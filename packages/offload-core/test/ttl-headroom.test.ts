import { describe, expect, it } from 'vitest';
import { parseTtlDeleteRules, ttlGuardDecision, ttlHeadroomSeconds } from '../src/index.js';

describe('row TTL rules from engine_full', () => {
  it('reads the delete rules and their WHERE conditions, not moves, recompression or settings', () => {
    const engine =
      "MergeTree PARTITION BY toDate(ts) ORDER BY (ts, seq) TTL toDateTime(ts) + toIntervalDay(7), toDateTime(ts) + toIntervalDay(1) WHERE (v > 100) AND (s = 'a, TTL b'), " +
      "toDateTime(ts) + toIntervalHour(1) TO VOLUME 'cold', toDateTime(ts) + toIntervalDay(3) RECOMPRESS CODEC(ZSTD(3)) SETTINGS merge_with_ttl_timeout = 60, index_granularity = 8192";
    expect(parseTtlDeleteRules(engine)).toEqual([
      { expression: 'toDateTime(ts) + toIntervalDay(7)' },
      { expression: 'toDateTime(ts) + toIntervalDay(1)', where: "(v > 100) AND (s = 'a, TTL b')" },
    ]);
  });

  it('finds none on a table without row TTL, even with TTL in a quoted setting or a column name', () => {
    expect(parseTtlDeleteRules('MergeTree ORDER BY (ts, seq) SETTINGS index_granularity = 8192')).toEqual([]);
    expect(parseTtlDeleteRules("MergeTree ORDER BY (ts, `a TTL b`) SETTINGS storage_policy = ' TTL x'")).toEqual([]);
  });

  it('keeps an explicit DELETE rule and drops the keyword', () => {
    expect(parseTtlDeleteRules('MergeTree ORDER BY ts TTL ts + toIntervalDay(7) DELETE')).toEqual([{ expression: 'ts + toIntervalDay(7)' }]);
  });
});

describe('TTL headroom', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const rules = [{ expression: 'ts + toIntervalDay(7)' }];

  it('is the time from now to the deadline of the oldest row not yet offloaded, negative once passed', () => {
    expect(ttlHeadroomSeconds({ rules, pendingDeleteAt: now.getTime() / 1000 + 5400 }, now)).toBe(5400);
    expect(ttlHeadroomSeconds({ rules, pendingDeleteAt: now.getTime() / 1000 - 60 }, now)).toBe(-60);
  });

  it('is +Inf with nothing waiting and absent (null) without row TTL', () => {
    expect(ttlHeadroomSeconds({ rules, pendingDeleteAt: null }, now)).toBe(Number.POSITIVE_INFINITY);
    expect(ttlHeadroomSeconds({ rules: [], pendingDeleteAt: null }, now)).toBeNull();
  });
});

describe('TTL guard decision', () => {
  const bounds = { criticalSeconds: 7200, resumeSeconds: 86_400 };

  it('stops below the critical bound, once', () => {
    expect(ttlGuardDecision('unknown', 7199, bounds)).toBe('stop');
    expect(ttlGuardDecision('started', -5, bounds)).toBe('stop');
    expect(ttlGuardDecision('stopped', 100, bounds)).toBeNull();
  });

  it('starts only once caught up (at or above the resume bound, or nothing waiting), without flapping in between', () => {
    expect(ttlGuardDecision('stopped', 7200, bounds)).toBeNull();
    expect(ttlGuardDecision('stopped', 86_400, bounds)).toBe('start');
    expect(ttlGuardDecision('stopped', Number.POSITIVE_INFINITY, bounds)).toBe('start');
    expect(ttlGuardDecision('started', Number.POSITIVE_INFINITY, bounds)).toBeNull();
  });

  it('starts merges a dead process may have left stopped, and leaves tables without TTL alone', () => {
    expect(ttlGuardDecision('unknown', Number.POSITIVE_INFINITY, bounds)).toBe('start');
    expect(ttlGuardDecision('unknown', null, bounds)).toBeNull();
    expect(ttlGuardDecision('stopped', null, bounds)).toBe('start');
  });
});
