import { performance } from 'node:perf_hooks';
import type { ClickHouseClient } from '@clickhouse/client';
import type { ThresholdSet } from '../../thresholds/index.js';
import { grade } from '../../evaluate/index.js';
import { evidenceOf, statusOf, stepResult } from '../grade.js';
import { attempt, median } from '../probe.js';
import type { NetworkSample, StepResult } from '../types.js';

/** Round trips measured between this process and ClickHouse. */
export interface RoundTrips {
  readonly attempts: number;
  readonly failures: number;
  readonly latenciesMs: readonly number[];
}

/** Measures the network path to ClickHouse; injected so tests are deterministic. */
export interface NetworkProbe {
  measure(): Promise<RoundTrips>;
}

/**
 * Times `attempts` pings of ClickHouse's `/ping` endpoint, the nearest thing
 * to the runbook's ICMP ping that needs no extra privileges: it crosses the
 * same network path but runs no query. A failed ping counts as a lost packet.
 */
export function clickHousePingProbe(client: ClickHouseClient, attempts = 10): NetworkProbe {
  return {
    async measure() {
      const latenciesMs: number[] = [];
      let failures = 0;
      for (let i = 0; i < attempts; i++) {
        const start = performance.now();
        const result = await client.ping().catch(() => ({ success: false as const }));
        if (result.success) latenciesMs.push(performance.now() - start);
        else failures++;
      }
      return { attempts, failures, latenciesMs };
    },
  };
}

/** Step 5: median round trip against `networkLatency` (>5ms), losses against `packetLoss` (>0%). */
export async function network(probe: NetworkProbe, thresholds: ThresholdSet): Promise<StepResult<NetworkSample | null>> {
  const measured = await attempt('network probe', () => probe.measure());
  if (!measured.ok) return stepResult(null, ['unknown'], [], [measured.reason]);
  const { attempts, failures, latenciesMs } = measured.value;
  if (attempts <= 0) return stepResult(null, ['unknown'], [], ['network probe made no attempts']);
  const medianMs = median(latenciesMs);
  const lossPercent = (failures / attempts) * 100;
  const grades = [
    ...(medianMs === null ? [] : [grade(thresholds.get('networkLatency'), medianMs, { label: 'median round trip to ClickHouse' })]),
    grade(thresholds.get('packetLoss'), lossPercent, { label: `failed round trips (${failures}/${attempts})` }),
  ];
  return stepResult({ attempts, failures, latenciesMs, medianMs, lossPercent }, [statusOf(grades)], evidenceOf(grades), []);
}
