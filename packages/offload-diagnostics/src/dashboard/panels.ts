import type { Threshold } from '../thresholds/index.js';

/** The templated datasource every panel and query names. */
export const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' } as const;

export interface ThresholdStep {
  readonly color: 'green' | 'yellow' | 'red';
  /** `null` is Grafana's base step, below every other. */
  readonly value: number | null;
}

export interface PanelTarget {
  readonly refId: string;
  readonly datasource: typeof DATASOURCE;
  readonly expr: string;
  readonly legendFormat: string;
  /** Minimum step; set where a range must hold whole cycles. */
  readonly interval?: string;
}

export interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Panel {
  readonly id: number;
  readonly type: 'gauge' | 'stat' | 'timeseries';
  readonly title: string;
  readonly description: string;
  readonly datasource: typeof DATASOURCE;
  readonly gridPos: GridPos;
  readonly targets: readonly PanelTarget[];
  readonly fieldConfig: {
    readonly defaults: Record<string, unknown> & {
      readonly unit: string;
      readonly thresholds: { readonly mode: 'absolute'; readonly steps: readonly ThresholdStep[] };
    };
    readonly overrides: readonly unknown[];
  };
  readonly options: Record<string, unknown>;
}

/**
 * Grafana threshold steps of a threshold: its acceptable/critical bounds, the
 * ones the alerts fire on. Steps ascend, so a threshold where lower is worse
 * starts red.
 */
export function thresholdSteps(threshold: Threshold): ThresholdStep[] {
  const warning = threshold.acceptable;
  const critical = threshold.critical;
  const steps: ThresholdStep[] =
    threshold.direction === 'above'
      ? [{ color: 'green', value: null }, ...step('yellow', warning), ...step('red', critical)]
      : [{ color: 'red', value: null }, ...step('yellow', critical), ...step('green', warning)];
  // Equal bounds (throughput: acceptable = critical) would draw an empty band.
  return steps.filter((s, i) => i === steps.length - 1 || s.value === null || s.value !== steps[i + 1]?.value);
}

function step(color: ThresholdStep['color'], value: number | undefined): ThresholdStep[] {
  return value === undefined ? [] : [{ color, value }];
}

export interface PanelSpec {
  readonly type: Panel['type'];
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly steps: readonly ThresholdStep[];
  readonly queries: readonly { readonly expr: string; readonly legend: string; readonly interval?: string }[];
  readonly width: number;
  readonly height: number;
  /** Extra field defaults, e.g. `min`/`max` or the time series draw style. */
  readonly defaults?: Record<string, unknown>;
  readonly overrides?: readonly unknown[];
  readonly options?: Record<string, unknown>;
}

/** Lays the panels out left to right in rows of 24 columns, numbering them from 1 in order. */
export function layOut(specs: readonly PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return specs.map((spec, i) => {
    if (x + spec.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w: spec.width, h: spec.height };
    x += spec.width;
    rowHeight = Math.max(rowHeight, spec.height);
    return {
      id: i + 1,
      type: spec.type,
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      gridPos,
      targets: spec.queries.map((query, q) => ({
        refId: String.fromCharCode(65 + q),
        datasource: DATASOURCE,
        expr: query.expr,
        legendFormat: query.legend,
        ...(query.interval === undefined ? {} : { interval: query.interval }),
      })),
      fieldConfig: {
        defaults: { ...spec.defaults, unit: spec.unit, thresholds: { mode: 'absolute', steps: spec.steps } },
        overrides: spec.overrides ?? [],
      },
      options: spec.options ?? {},
    };
  });
}
