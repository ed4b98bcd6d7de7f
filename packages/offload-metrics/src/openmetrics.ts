import type { Registry } from 'prom-client';

/** `Content-Type` of an OpenMetrics 1.0 exposition. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** `Content-Type` of the Prometheus 0.0.4 text exposition. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Sample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
}

// OpenMetrics escapes the same three characters in label values and HELP text.
const escape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** OpenMetrics wants `le` and `quantile` as canonical floats (`1.0`, not `1`); Prometheus then matches either. */
function formatLabelValue(key: string, value: string | number): string {
  const number = key === 'le' || key === 'quantile' ? Number(value) : NaN;
  return Number.isInteger(number) ? number.toFixed(1) : escape(String(value));
}

function formatSample(name: string, sample: Sample): string {
  const labels = Object.entries(sample.labels).map(([key, value]) => `${key}="${formatLabelValue(key, value)}"`);
  return `${name}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${formatNumber(sample.value)}`;
}

/**
 * Renders a registry in the OpenMetrics 1.0 text format.
 *
 * prom-client can do this itself (`setContentType`), but it does so by
 * renaming every counter in place (`offload_rows_total` becomes
 * `offload_rows`), so later Prometheus-format scrapes of the same metrics
 * lose their `_total` names, and two concurrent scrapes in different formats
 * race. This renders from `getMetricsAsJSON()` and mutates nothing.
 */
export async function renderOpenMetrics(registry: Registry): Promise<string> {
  const families = await registry.getMetricsAsJSON();
  const lines: string[] = [];
  for (const family of families) {
    // prom-client types `type` as a numeric enum, but it holds the type's name.
    const type = family.type as unknown as 'counter' | 'gauge' | 'histogram' | 'summary';
    const counter = type === 'counter';
    // OpenMetrics names a counter family without `_total`; its samples carry it.
    const familyName = counter ? family.name.replace(/_total$/, '') : family.name;
    lines.push(`# TYPE ${familyName} ${type}`, `# HELP ${familyName} ${escape(family.help)}`);
    for (const sample of family.values as readonly Sample[]) {
      const name = counter ? `${familyName}_total` : (sample.metricName ?? family.name);
      lines.push(formatSample(name, sample));
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}
