import { OffloadError } from '../../errors.js';
import { decimalParams, highestFieldId } from '../spec/schema.js';
import type { IcebergSchema, IcebergType, NestedField, PrimitiveType } from '../spec/types.js';
import { ClickHouseTypeError, parseClickHouseType, unwrapClickHouseType } from './clickhouse-type.js';
import type { ClickHouseType } from './clickhouse-type.js';
import { icebergPrimitiveOf } from './type-mapping.js';

/** A column as `system.columns` / `DESCRIBE TABLE` reports it. */
export interface ClickHouseColumn {
  readonly name: string;
  /** The type string, e.g. `LowCardinality(String)`. */
  readonly type: string;
}

/** One difference between the ClickHouse columns and the Iceberg schema. */
export interface SchemaChange {
  /** Dotted path of the column (`quote.bid` for a tuple element). */
  readonly path: string;
  readonly change: 'added' | 'widened' | 'made-optional' | 'incompatible';
  readonly detail: string;
}

/** ClickHouse and Iceberg disagree in a way the configured mode does not allow. */
export class SchemaMismatchError extends OffloadError {
  readonly changes: readonly SchemaChange[];
  constructor(changes: readonly SchemaChange[], options: { table?: string } = {}) {
    const list = changes.map((c) => `${c.path} (${c.change}: ${c.detail})`).join(', ');
    super('schema', `ClickHouse columns do not match the Iceberg schema: ${list}`, options);
    this.changes = changes;
  }
}

export interface EvolveOptions {
  /** `fail` refuses any change; `evolve` adds columns, widens types and relaxes required fields. */
  readonly mode: 'evolve' | 'fail';
  /** The table's `last-column-id`; defaults to the highest id in the existing schema. */
  readonly lastColumnId?: number;
  /** Table name for errors. */
  readonly table?: string;
}

export interface EvolvedSchema {
  readonly schema: IcebergSchema;
  readonly changes: readonly SchemaChange[];
  readonly lastColumnId: number;
}

type Allocate = () => number;

/**
 * Derives the Iceberg schema of a ClickHouse table, keeping the ids of an
 * existing schema. Fresh ids follow Iceberg's own order: every field of a
 * struct first (top-level columns get 1..n in column order), then, field by
 * field, the ids nested inside each. New columns are appended with new ids and
 * are optional, as format v2 requires. Columns missing from ClickHouse stay
 * in the schema if optional (readers see nulls) and are a mismatch if required.
 * Type changes other than Iceberg's legal promotions (int → long,
 * float → double, decimal precision widening) are always a mismatch.
 */
export function evolveSchema(existing: IcebergSchema | undefined, columns: readonly ClickHouseColumn[], options: EvolveOptions): EvolvedSchema {
  let last = options.lastColumnId ?? (existing ? highestFieldId(existing) : 0);
  const allocate: Allocate = () => ++last;
  const changes: SchemaChange[] = [];
  const parsed = columns.map((c) => ({ name: c.name, type: parseClickHouseType(c.type) }));

  if (!existing) {
    const fields = freshFields(parsed, allocate, '');
    return { schema: { type: 'struct', 'schema-id': 0, fields }, changes, lastColumnId: last };
  }
  const fields = mergeFields(existing.fields, parsed, allocate, '', changes);
  const problems = changes.filter((c) => c.change === 'incompatible' || options.mode === 'fail');
  if (problems.length > 0) throw new SchemaMismatchError(problems, options.table === undefined ? {} : { table: options.table });
  if (changes.length === 0) return { schema: existing, changes, lastColumnId: last };
  const schema: IcebergSchema = {
    type: 'struct',
    'schema-id': existing['schema-id'] + 1,
    fields,
    ...(existing['identifier-field-ids'] ? { 'identifier-field-ids': existing['identifier-field-ids'] } : {}),
  };
  return { schema, changes, lastColumnId: last };
}

interface Named {
  readonly name: string;
  readonly type: ClickHouseType;
}

function freshFields(items: readonly Named[], allocate: Allocate, prefix: string): NestedField[] {
  const ids = items.map(() => allocate());
  return items.map((item, i) => {
    const { type, nullable } = unwrapClickHouseType(item.type);
    return { id: ids[i]!, name: item.name, required: !nullable, type: freshType(type, allocate, `${prefix}${item.name}`) };
  });
}

function freshType(type: ClickHouseType, allocate: Allocate, path: string): IcebergType {
  const primitive = icebergPrimitiveOf(type, path);
  if (primitive) return primitive;
  if (type.kind === 'array') {
    const id = allocate();
    const element = unwrapClickHouseType(type.element);
    return { type: 'list', 'element-id': id, element: freshType(element.type, allocate, `${path}.element`), 'element-required': !element.nullable };
  }
  if (type.kind === 'map') {
    const keyId = allocate();
    const valueId = allocate();
    const key = unwrapClickHouseType(type.key);
    const value = unwrapClickHouseType(type.value);
    return {
      type: 'map',
      'key-id': keyId,
      key: freshType(key.type, allocate, `${path}.key`),
      'value-id': valueId,
      value: freshType(value.type, allocate, `${path}.value`),
      'value-required': !value.nullable,
    };
  }
  if (type.kind === 'tuple') return { type: 'struct', fields: freshFields(type.elements, allocate, `${path}.`) };
  throw new ClickHouseTypeError(type.kind, `column ${path} has no Iceberg mapping`);
}

function mergeFields(existing: readonly NestedField[], items: readonly Named[], allocate: Allocate, prefix: string, changes: SchemaChange[]): NestedField[] {
  const byName = new Map(items.map((i) => [i.name, i]));
  const merged = existing.map((field): NestedField => {
    const path = `${prefix}${field.name}`;
    const item = byName.get(field.name);
    if (!item) {
      if (field.required) changes.push({ path, change: 'incompatible', detail: 'required in Iceberg but missing in ClickHouse' });
      return field;
    }
    const { type, nullable } = unwrapClickHouseType(item.type);
    const required = field.required && !nullable;
    if (required !== field.required) changes.push({ path, change: 'made-optional', detail: 'became Nullable in ClickHouse' });
    return { ...field, required, type: mergeType(field.type, type, allocate, path, changes) };
  });
  const known = new Set(existing.map((f) => f.name));
  const added = items.filter((i) => !known.has(i.name));
  for (const field of freshFields(added, allocate, prefix)) {
    changes.push({ path: `${prefix}${field.name}`, change: 'added', detail: 'new in ClickHouse' });
    merged.push({ ...field, required: false });
  }
  return merged;
}

function mergeType(existing: IcebergType, source: ClickHouseType, allocate: Allocate, path: string, changes: SchemaChange[]): IcebergType {
  const incompatible = (detail: string): IcebergType => {
    changes.push({ path, change: 'incompatible', detail });
    return existing;
  };
  if (typeof existing === 'string') {
    const derived = icebergPrimitiveOf(source, path);
    if (!derived) return incompatible(`is ${existing} in Iceberg but ${source.kind} in ClickHouse`);
    if (derived === existing || canPromote(derived, existing)) return existing;
    if (canPromote(existing, derived)) {
      changes.push({ path, change: 'widened', detail: `${existing} → ${derived}` });
      return derived;
    }
    return incompatible(`is ${existing} in Iceberg but ${derived} in ClickHouse`);
  }
  if (existing.type === 'list') {
    if (source.kind !== 'array') return incompatible(`is a list in Iceberg but ${source.kind} in ClickHouse`);
    const element = unwrapClickHouseType(source.element);
    const required = existing['element-required'] && !element.nullable;
    if (required !== existing['element-required']) changes.push({ path: `${path}.element`, change: 'made-optional', detail: 'became Nullable' });
    return { ...existing, element: mergeType(existing.element, element.type, allocate, `${path}.element`, changes), 'element-required': required };
  }
  if (existing.type === 'map') {
    if (source.kind !== 'map') return incompatible(`is a map in Iceberg but ${source.kind} in ClickHouse`);
    const value = unwrapClickHouseType(source.value);
    const required = existing['value-required'] && !value.nullable;
    if (required !== existing['value-required']) changes.push({ path: `${path}.value`, change: 'made-optional', detail: 'became Nullable' });
    return {
      ...existing,
      key: mergeType(existing.key, unwrapClickHouseType(source.key).type, allocate, `${path}.key`, changes),
      value: mergeType(existing.value, value.type, allocate, `${path}.value`, changes),
      'value-required': required,
    };
  }
  if (source.kind !== 'tuple') return incompatible(`is a struct in Iceberg but ${source.kind} in ClickHouse`);
  return { type: 'struct', fields: mergeFields(existing.fields, source.elements, allocate, `${path}.`, changes) };
}

/** Iceberg's legal primitive promotions: whether values of `from` can be read as `to`. */
export function canPromote(from: PrimitiveType, to: PrimitiveType): boolean {
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = decimalParams(from);
  const b = decimalParams(to);
  return a !== undefined && b !== undefined && a.scale === b.scale && a.precision < b.precision;
}
