import { describe, expect, it } from 'vitest';
import { tableSchema } from '../src/config/index.js';
import type { Layer, TableConfig } from '../src/config/index.js';
import { DependencyCycleError, buildDependencyGraph } from '../src/cycle/graph.js';
import { UnknownTableError } from '../src/errors.js';

function table(name: string, layer: Layer, dependsOn: string[] = []): TableConfig {
  const parsed = tableSchema.parse({ source: `k2.${name}`, target: `cold.${name}`, layer, timestampColumn: 'ts', sequenceColumn: 'seq', dependsOn });
  return { ...parsed, name, partitionBy: [] };
}

const deps = (tables: TableConfig[]) => Object.fromEntries(buildDependencyGraph(tables).dependencies);

describe('buildDependencyGraph', () => {
  it('makes silver wait for every bronze table and gold for every silver one by default', () => {
    const tables = [table('g', 'gold'), table('s', 'silver'), table('b1', 'bronze'), table('b2', 'bronze')];
    expect(deps(tables)).toEqual({ g: ['s'], s: ['b1', 'b2'], b1: [], b2: [] });
    expect(buildDependencyGraph(tables).order).toEqual(['b1', 'b2', 's', 'g']);
  });

  it('lets gold wait for bronze when no silver table is configured', () => {
    expect(deps([table('b', 'bronze'), table('g', 'gold')])).toEqual({ b: [], g: ['b'] });
  });

  it('replaces the layer rule with an explicit dependsOn', () => {
    const tables = [table('b1', 'bronze'), table('b2', 'bronze'), table('s', 'silver', ['b2']), table('g', 'gold', ['b1'])];
    expect(deps(tables)).toEqual({ b1: [], b2: [], s: ['b2'], g: ['b1'] });
  });

  it('keeps configuration order among independent tables', () => {
    const tables = [table('c', 'bronze'), table('a', 'bronze'), table('b', 'bronze')];
    expect(buildDependencyGraph(tables).order).toEqual(['c', 'a', 'b']);
  });

  it('names the tables of a dependency cycle', () => {
    const tables = [table('a', 'bronze', ['c']), table('b', 'bronze', ['a']), table('c', 'bronze', ['b']), table('d', 'bronze')];
    const error = (() => {
      try {
        buildDependencyGraph(tables);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DependencyCycleError);
    const cycle = (error as DependencyCycleError).cycle;
    expect(cycle[0]).toBe(cycle.at(-1));
    expect(new Set(cycle)).toEqual(new Set(['a', 'b', 'c']));
    expect((error as Error).message).toMatch(/cycle: \w → \w → \w → \w/);
  });

  it('finds cycles made by an explicit dependency against the layer rule', () => {
    // b depends on s explicitly; s depends on every bronze table by default.
    const tables = [table('b', 'bronze', ['s']), table('s', 'silver')];
    expect(() => buildDependencyGraph(tables)).toThrow(DependencyCycleError);
  });

  it('rejects a dependency on a table that is not configured', () => {
    expect(() => buildDependencyGraph([table('s', 'silver', ['nope'])])).toThrow(UnknownTableError);
  });

  it('rejects a table configured twice', () => {
    expect(() => buildDependencyGraph([table('a', 'bronze'), table('a', 'silver')])).toThrow(/configured twice/);
  });
});
