import { ManualClock } from '@coldtier/offload-core';
import type { TtlProbe } from '@coldtier/offload-core';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, createOffloadMetrics } from '../src/index.js';
import type { TtlSource } from '../src/index.js';
import { parseExposition } from './exposition.js';

const t0 = new Date('2026-12-01T12:00:00Z');
const at = (secondsAfterT0: number) => t0.getTime() / 1000 + secondsAfterT0;
const rules = [{ expression: 'toDateTime(ts) + toIntervalDay(7)' }];

/** Probes as a `TtlMonitor` would return them, changed by the test between scrapes. */
class ScriptedTtl implements TtlSource {
  probes: TtlProbe[] = [];
  async probe(): Promise<readonly TtlProbe[]> {
    return this.probes;
  }
}

const probe = (table: string, fields: Partial<TtlProbe>): TtlProbe => ({
  table,
  rules,
  pendingDeleteAt: null,
  earliestPartDeleteAt: null,
  probedAt: at(0),
  ...fields,
});

async function headroom(metrics: ReturnType<typeof createOffloadMetrics>): Promise<Record<string, number>> {
  const samples = parseExposition(await metrics.registry.metrics()).samples.filter((s) => s.name === METRIC_NAMES.ttlHeadroomSeconds);
  return Object.fromEntries(samples.map((s) => [s.labels['table']!, s.value]));
}

describe('offload_ttl_headroom_seconds', () => {
  const tables = ['stalled', 'caught_up', 'no_ttl'].map((name) => ({ name, layer: 'bronze' as const }));

  it('falls with the clock at every scrape, +Inf with nothing waiting, absent without TTL', async () => {
    const clock = new ManualClock(t0);
    const source = new ScriptedTtl();
    source.probes = [probe('stalled', { pendingDeleteAt: at(7200) }), probe('caught_up', {}), probe('no_ttl', { rules: [] })];
    const metrics = createOffloadMetrics({ tables, version: 'test', scheduleMinutes: 15, clock, ttlSource: source });
    expect(await headroom(metrics)).toEqual({ stalled: 7200, caught_up: Infinity });
    clock.advance(3_600_000);
    expect(await headroom(metrics)).toEqual({ stalled: 3600, caught_up: Infinity });
    // The offload caught up with the stalled table; a new row waits on the other one.
    source.probes = [probe('stalled', {}), probe('caught_up', { pendingDeleteAt: at(3600 + 600_000) }), probe('no_ttl', { rules: [] })];
    expect(await headroom(metrics)).toEqual({ stalled: Infinity, caught_up: 600_000 });
  });

  it('has no series without a TTL source', async () => {
    const metrics = createOffloadMetrics({ tables, version: 'test', scheduleMinutes: 15 });
    expect(await headroom(metrics)).toEqual({});
  });
});
