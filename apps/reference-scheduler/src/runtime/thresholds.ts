import { ConfigError } from '@coldtier/offload-core';
import type { OffloadConfig } from '@coldtier/offload-core';
import { resolveThresholds, type ThresholdOverrides, type ThresholdSet } from '@coldtier/offload-diagnostics';

/**
 * The threshold table for this deployment: the seeds' catalog for its
 * schedule with the config file's `thresholds` applied. Errors name the
 * config key (`thresholds.tables.quiet.lag.critical`), not the library's path.
 *
 * @throws ConfigError for an unknown threshold, a bad bound or bounds out of order.
 */
export function configuredThresholds(config: OffloadConfig, source?: string): ThresholdSet {
  const { overrides, tables } = config.thresholds ?? {};
  try {
    // The shapes are checked by resolveThresholds, which owns the threshold ids.
    return resolveThresholds({
      scheduleMinutes: config.scheduleMinutes,
      ...(overrides === undefined ? {} : { overrides: overrides as ThresholdOverrides }),
      ...(tables === undefined ? {} : { tables: tables as Readonly<Record<string, ThresholdOverrides>> }),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const issues = error.issues.map((issue) => ({ ...issue, path: issue.path === 'scheduleMinutes' ? issue.path : `thresholds.${issue.path}` }));
    throw new ConfigError(issues, { ...(source === undefined ? {} : { source }), cause: error });
  }
}
