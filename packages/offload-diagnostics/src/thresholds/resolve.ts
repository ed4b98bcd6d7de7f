import { ConfigError, type ConfigIssue } from '@coldtier/offload-core';
import { THRESHOLD_CATALOG } from './catalog.js';
import {
  THRESHOLD_IDS,
  type BoundSpec,
  type Threshold,
  type ThresholdDefinition,
  type ThresholdId,
  type ThresholdOverrides,
  type ThresholdUnit,
} from './types.js';

/** The reference scheduler's interval. */
export const DEFAULT_SCHEDULE_MINUTES = 15;

/** How one deployment changes the catalog. */
export interface ThresholdOptions {
  /** Minutes between cycles; schedule-relative bounds follow it. Defaults to 15. */
  readonly scheduleMinutes?: number;
  /** Deployment-wide changes. */
  readonly overrides?: ThresholdOverrides;
  /** Per-table changes, keyed by logical table name, applied over the deployment-wide ones. */
  readonly tables?: Readonly<Record<string, ThresholdOverrides>>;
}

/** The catalog resolved for one deployment: every bound a number in the threshold's unit. */
export interface ThresholdSet {
  readonly scheduleMinutes: number;
  /** The threshold for the deployment, or for `table` when it has an override. */
  get(id: ThresholdId, table?: string): Threshold;
  /** Tables whose value of `id` differs from the deployment-wide one, sorted. */
  overriddenTables(id: ThresholdId): readonly string[];
  /** Every deployment-wide threshold, in catalog order. */
  list(): readonly Threshold[];
}

const BOUND_KEYS = ['target', 'acceptable', 'critical'] as const;
type BoundKey = (typeof BOUND_KEYS)[number];

const UNIT_PER_MINUTE: Partial<Record<ThresholdUnit, number>> = { minutes: 1, seconds: 60, milliseconds: 60_000 };

/**
 * Resolves the catalog for a deployment. Bounds given as a share of the
 * schedule become numbers; overrides replace single bounds. A catalog bound
 * that would contradict a schedule-derived or overridden one (a 300 s
 * warning above a 200 s critical on 5-minute cycles) yields to it, whereas
 * contradictory overrides are a configuration error.
 *
 * @throws ConfigError naming the path of every invalid value.
 */
export function resolveThresholds(options: ThresholdOptions = {}): ThresholdSet {
  const issues: ConfigIssue[] = [];
  const scheduleMinutes = options.scheduleMinutes ?? DEFAULT_SCHEDULE_MINUTES;
  if (!Number.isFinite(scheduleMinutes) || scheduleMinutes <= 0 || scheduleMinutes > 24 * 60) {
    issues.push({ path: 'scheduleMinutes', message: `expected minutes in (0, 1440], got ${String(scheduleMinutes)}` });
  }
  checkOverrides(options.overrides, 'overrides', issues);
  for (const [table, overrides] of Object.entries(options.tables ?? {})) {
    checkOverrides(overrides, `tables.${table}`, issues);
  }
  if (issues.length > 0) throw new ConfigError(issues, { source: 'thresholds' });

  const resolve = (id: ThresholdId, layers: readonly (ThresholdOverrides | undefined)[], path: string, table?: string) =>
    resolveOne(THRESHOLD_CATALOG.get(id)!, layers, { scheduleMinutes, path, table }, issues);

  const deployment = new Map(THRESHOLD_IDS.map((id) => [id, resolve(id, [options.overrides], `overrides.${id}`)]));
  const perTable = new Map<string, Map<ThresholdId, Threshold>>();
  for (const [table, overrides] of Object.entries(options.tables ?? {})) {
    const entries = (Object.keys(overrides) as ThresholdId[]).map(
      (id) => [id, resolve(id, [options.overrides, overrides], `tables.${table}.${id}`, table)] as const,
    );
    perTable.set(table, new Map(entries));
  }
  if (issues.length > 0) throw new ConfigError(issues, { source: 'thresholds' });

  return {
    scheduleMinutes,
    get: (id, table) => (table === undefined ? undefined : perTable.get(table)?.get(id)) ?? deployment.get(id)!,
    overriddenTables: (id) => [...perTable].filter(([, byId]) => byId.has(id)).map(([table]) => table).sort(),
    list: () => THRESHOLD_IDS.map((id) => deployment.get(id)!),
  };
}

interface ResolveContext {
  readonly scheduleMinutes: number;
  readonly path: string;
  readonly table: string | undefined;
}

function resolveOne(
  definition: ThresholdDefinition,
  layers: readonly (ThresholdOverrides | undefined)[],
  context: ResolveContext,
  issues: ConfigIssue[],
): Threshold {
  const overridden = new Set<BoundKey>();
  const specs: Partial<Record<BoundKey, BoundSpec>> = {};
  for (const key of BOUND_KEYS) {
    const spec = definition[key];
    if (spec !== undefined) specs[key] = spec;
  }
  for (const layer of layers) {
    const override = layer?.[definition.id];
    if (override === undefined) continue;
    for (const key of BOUND_KEYS) {
      const spec = override[key];
      if (spec === undefined) continue;
      specs[key] = spec;
      overridden.add(key);
    }
  }
  // A schedule-derived bound moves with the schedule, so it outranks fixed catalog numbers.
  for (const key of BOUND_KEYS) {
    if (typeof specs[key] === 'object') overridden.add(key);
  }

  const bounds: Partial<Record<BoundKey, number>> = {};
  for (const key of BOUND_KEYS) {
    const spec = specs[key];
    if (spec === undefined) continue;
    const value = toUnit(spec, definition.unit, context.scheduleMinutes);
    if (value === undefined) {
      issues.push({ path: `${context.path}.${key}`, message: `a schedule-relative bound needs a time unit, ${definition.id} is in ${definition.unit}` });
    } else {
      bounds[key] = value;
    }
  }
  orderBounds(definition, bounds, overridden, context.path, issues);

  return {
    id: definition.id,
    title: definition.title,
    description: definition.description,
    unit: definition.unit,
    direction: definition.direction,
    inclusive: definition.inclusive,
    sources: definition.sources,
    ...bounds,
    ...(context.table === undefined ? {} : { table: context.table }),
  };
}

function toUnit(spec: BoundSpec, unit: ThresholdUnit, scheduleMinutes: number): number | undefined {
  if (typeof spec === 'number') return spec;
  const perMinute = UNIT_PER_MINUTE[unit];
  // Rounded so 2/3 of 15 minutes is 600 s in rules and reasons, not 600.0000000000001.
  return perMinute === undefined ? undefined : Number((spec.scheduleFraction * scheduleMinutes * perMinute).toPrecision(12));
}

/**
 * Bounds must grow worse from target to critical. A catalog bound out of
 * order is moved onto its overridden neighbour; two overrides out of order
 * are reported.
 */
function orderBounds(
  definition: ThresholdDefinition,
  bounds: Partial<Record<BoundKey, number>>,
  overridden: ReadonlySet<BoundKey>,
  path: string,
  issues: ConfigIssue[],
): void {
  const worse = (a: number, b: number) => (definition.direction === 'above' ? a > b : a < b);
  const pairs: readonly (readonly [BoundKey, BoundKey])[] = [
    ['acceptable', 'critical'],
    ['target', 'acceptable'],
    ['target', 'critical'],
  ];
  for (const [milder, harsher] of pairs) {
    const mild = bounds[milder];
    const harsh = bounds[harsher];
    if (mild === undefined || harsh === undefined || !worse(mild, harsh)) continue;
    if (!overridden.has(milder)) {
      bounds[milder] = harsh;
    } else if (!overridden.has(harsher)) {
      bounds[harsher] = mild;
    } else {
      issues.push({
        path: `${path}.${milder}`,
        message: `${milder} ${mild} is worse than ${harsher} ${harsh} for a threshold where ${definition.direction === 'above' ? 'higher' : 'lower'} is worse`,
      });
    }
  }
}

function checkOverrides(overrides: ThresholdOverrides | undefined, path: string, issues: ConfigIssue[]): void {
  if (overrides === undefined) return;
  if (typeof overrides !== 'object' || overrides === null) {
    issues.push({ path, message: 'expected an object of threshold overrides' });
    return;
  }
  for (const [id, override] of Object.entries(overrides) as [string, Record<string, unknown>][]) {
    if (!THRESHOLD_CATALOG.has(id as ThresholdId)) {
      issues.push({ path: `${path}.${id}`, message: `unknown threshold ${JSON.stringify(id)}: expected one of ${THRESHOLD_IDS.join(', ')}` });
      continue;
    }
    if (typeof override !== 'object' || override === null) {
      issues.push({ path: `${path}.${id}`, message: 'expected { target?, acceptable?, critical? }' });
      continue;
    }
    for (const [key, value] of Object.entries(override)) {
      const where = `${path}.${id}.${key}`;
      if ((BOUND_KEYS as readonly string[]).includes(key)) {
        if (!isBoundSpec(value)) issues.push({ path: where, message: `expected a finite number or { scheduleFraction: > 0 }, got ${JSON.stringify(value)}` });
      } else {
        issues.push({ path: where, message: 'unknown key: expected target, acceptable or critical' });
      }
    }
  }
}

function isBoundSpec(value: unknown): value is BoundSpec {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  const fraction = (value as { scheduleFraction?: unknown }).scheduleFraction;
  return keys.length === 1 && typeof fraction === 'number' && Number.isFinite(fraction) && fraction > 0;
}
