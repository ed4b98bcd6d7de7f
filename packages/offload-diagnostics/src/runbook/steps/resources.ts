import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import type { ThresholdSet } from '../../thresholds/index.js';
import { grade } from '../../evaluate/index.js';
import { evidenceOf, statusOf, stepResult } from '../grade.js';
import { attempt, selectRows, toNumber } from '../probe.js';
import type { HostSample, Resources, StepResult } from '../types.js';

/** Reads this host's and process's resources; injected so tests and remote hosts can supply their own. */
export interface HostProbe {
  sample(): Promise<HostSample>;
}

/** The host this process runs on, from `node:os` and `process`. */
export const osHostProbe: HostProbe = {
  async sample() {
    return {
      loadAverage1m: loadavg()[0] ?? 0,
      cpuCount: availableParallelism(),
      freeMemoryBytes: freemem(),
      totalMemoryBytes: totalmem(),
      processRssBytes: process.memoryUsage.rss(),
    };
  },
};

const CLICKHOUSE_MEMORY = `SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'`;

/**
 * Host CPU is the 1-minute load average over the cores: a sampled CPU
 * percentage would need two readings some time apart, and load also counts
 * work waiting for a core, which is what slows a cycle down.
 */
export function hostPercentages(sample: HostSample): { cpu: number; memory: number } {
  return {
    cpu: (sample.loadAverage1m / Math.max(1, sample.cpuCount)) * 100,
    memory: sample.totalMemoryBytes > 0 ? (1 - sample.freeMemoryBytes / sample.totalMemoryBytes) * 100 : 0,
  };
}

/**
 * Step 4: host CPU and memory (runbook: host <80% CPU, <80% memory) and the
 * memory ClickHouse tracks as in use (<8GB). The process's resident memory
 * is reported, not graded: the seeds bound Spark's memory, and where the job
 * runs outside this process that bound says nothing about it.
 */
export async function resources(client: ClickHouseClient, probe: HostProbe, thresholds: ThresholdSet): Promise<StepResult<Resources>> {
  const host = await attempt('host resources', () => probe.sample());
  const memory = await attempt('system.metrics', async () => {
    const [row] = await selectRows<{ value: unknown }>(client, CLICKHOUSE_MEMORY);
    if (row === undefined) throw new Error('no MemoryTracking metric');
    return toNumber(row.value);
  });
  const percentages = host.ok ? hostPercentages(host.value) : null;
  const grades = [
    ...(percentages === null
      ? []
      : [
          grade(thresholds.get('hostCpu'), percentages.cpu, { label: 'host CPU (1-minute load over cores)' }),
          grade(thresholds.get('hostMemory'), percentages.memory),
        ]),
    ...(memory.ok ? [grade(thresholds.get('clickhouseMemory'), memory.value)] : []),
  ];
  const reasons = [host, memory].flatMap((p) => (p.ok ? [] : [p.reason]));
  const data: Resources = {
    host: host.ok ? host.value : null,
    clickhouseMemoryBytes: memory.ok ? memory.value : null,
    hostCpuPercent: percentages?.cpu ?? null,
    hostMemoryPercent: percentages?.memory ?? null,
  };
  return stepResult(data, [statusOf(grades), ...(reasons.length > 0 ? ['unknown' as const] : [])], evidenceOf(grades), reasons);
}
