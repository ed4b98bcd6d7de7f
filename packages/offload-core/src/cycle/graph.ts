import { LAYERS } from '../config/schema.js';
import type { Layer, TableConfig } from '../config/schema.js';
import { OffloadError, UnknownTableError } from '../errors.js';

/** The tables' dependencies resolved and checked for cycles. */
export interface DependencyGraph {
  /** Every table's direct dependencies, by table name. */
  readonly dependencies: ReadonlyMap<string, readonly string[]>;
  /** Table names such that every table comes after all of its dependencies; ties keep configuration order. */
  readonly order: readonly string[];
}

/** The tables' dependencies form a cycle, so no order can satisfy them. */
export class DependencyCycleError extends OffloadError {
  /** The tables on the cycle, the first repeated at the end: `a → b → a`. */
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[]) {
    super('config', `table dependencies form a cycle: ${cycle.join(' → ')}`, { table: cycle[0] });
    this.cycle = cycle;
  }
}

/**
 * The layer rule for a table with an empty `dependsOn`: it depends on every
 * table of the nearest lower layer that has tables (silver on all bronze
 * tables, gold on all silver ones, gold on bronze when there is no silver).
 * Bronze tables have no default dependencies. An explicit `dependsOn`
 * replaces the rule for that table, so a silver table listing one bronze
 * table starts as soon as that one succeeds.
 */
function layerDependencies(table: TableConfig, byLayer: ReadonlyMap<Layer, readonly string[]>): readonly string[] {
  for (let i = LAYERS.indexOf(table.layer) - 1; i >= 0; i--) {
    const lower = byLayer.get(LAYERS[i]!) ?? [];
    if (lower.length > 0) return lower;
  }
  return [];
}

/**
 * Resolves dependencies (explicit `dependsOn`, else the layer rule) and
 * orders the tables. Throws `UnknownTableError` for a dependency on a table
 * that is not configured, `DependencyCycleError` when the dependencies
 * (explicit and default together) form a cycle.
 */
export function buildDependencyGraph(tables: readonly TableConfig[]): DependencyGraph {
  const names = tables.map((t) => t.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) {
    throw new OffloadError('config', `table ${duplicate} is configured twice`, { table: duplicate });
  }
  const byLayer = new Map<Layer, string[]>();
  for (const table of tables) byLayer.set(table.layer, [...(byLayer.get(table.layer) ?? []), table.name]);

  const dependencies = new Map<string, readonly string[]>();
  for (const table of tables) {
    for (const dep of table.dependsOn) {
      if (!names.includes(dep)) throw new UnknownTableError(dep, `${table.name} depends on it`);
    }
    dependencies.set(table.name, table.dependsOn.length > 0 ? [...new Set(table.dependsOn)] : layerDependencies(table, byLayer));
  }
  return { dependencies, order: topologicalOrder(names, dependencies) };
}

function topologicalOrder(names: readonly string[], dependencies: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < names.length) {
    // Quadratic, but a cycle has tens of tables at most, and picking the first
    // ready table each round keeps configuration order among independent ones.
    const next = names.find((n) => !placed.has(n) && (dependencies.get(n) ?? []).every((d) => placed.has(d)));
    if (next === undefined) throw new DependencyCycleError(findCycle(names.filter((n) => !placed.has(n)), dependencies));
    order.push(next);
    placed.add(next);
  }
  return order;
}

/** Walks unplaced tables (each has an unplaced dependency) until one repeats. */
function findCycle(unplaced: readonly string[], dependencies: ReadonlyMap<string, readonly string[]>): string[] {
  const path: string[] = [];
  let current = unplaced[0]!;
  while (!path.includes(current)) {
    path.push(current);
    current = (dependencies.get(current) ?? []).find((d) => unplaced.includes(d))!;
  }
  return [...path.slice(path.indexOf(current)), current];
}
