import { METRIC_NAMES } from '@coldtier/offload-metrics';

/** The series the rules and the dashboard query: the exporter's own names. */
export { METRIC_NAMES };

const HISTOGRAMS: readonly string[] = [METRIC_NAMES.durationSeconds, METRIC_NAMES.cycleDurationSeconds];
const SUMMARIES: readonly string[] = [METRIC_NAMES.rowsPerSecond];

/**
 * Every series name a scrape of the exporter yields: histograms as their
 * `_bucket`/`_sum`/`_count` series only (the bare name does not exist, which
 * is what silenced the reference's cycle alerts), summaries as the quantile
 * series plus `_sum`/`_count`.
 */
export function exportedSeriesNames(): ReadonlySet<string> {
  const names = new Set<string>();
  for (const name of Object.values(METRIC_NAMES)) {
    if (HISTOGRAMS.includes(name)) {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    } else if (SUMMARIES.includes(name)) {
      for (const suffix of ['', '_sum', '_count']) names.add(`${name}${suffix}`);
    } else {
      names.add(name);
    }
  }
  return names;
}

/** Prometheus' own per-target series, which SchedulerDown reads. */
export const UP = 'up';
