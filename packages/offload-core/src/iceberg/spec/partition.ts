import type { PartitionValue } from './data-file.js';
import { IcebergSpecError } from './errors.js';
import { findFieldById, isPrimitive } from './schema.js';
import { humanString, parseTransform, transformResultType, type Transform } from './transform.js';
import type { IcebergSchema, NestedField, PrimitiveType } from './types.js';

/** One partition field as in table-metadata JSON. */
export interface PartitionField {
  readonly 'source-id': number;
  readonly 'field-id': number;
  readonly name: string;
  readonly transform: string;
}

/** A partition spec as in table-metadata JSON. */
export interface PartitionSpec {
  readonly 'spec-id': number;
  readonly fields: readonly PartitionField[];
}

/** Partition field ids start here (the spec reserves 1000+ for them). */
export const FIRST_PARTITION_FIELD_ID = 1000;

export const UNPARTITIONED_SPEC: PartitionSpec = { 'spec-id': 0, fields: [] };

/** A partition field resolved against a schema: its transform and the type of its values. */
export interface BoundPartitionField {
  readonly field: PartitionField;
  readonly transform: Transform;
  readonly sourceType: PrimitiveType;
  readonly resultType: PrimitiveType;
}

/** Resolves every field of a spec against a schema; throws on a missing or non-primitive source. */
export function bindPartitionSpec(spec: PartitionSpec, schema: IcebergSchema): BoundPartitionField[] {
  return spec.fields.map((field) => {
    const source = findFieldById(schema, field['source-id']);
    if (!source || !isPrimitive(source.type)) {
      throw new IcebergSpecError(
        `partition field ${field.name} has source-id ${field['source-id']}, which is not a primitive column of schema ${schema['schema-id']}`,
      );
    }
    const transform = parseTransform(field.transform);
    return { field, transform, sourceType: source.type, resultType: transformResultType(transform, source.type) };
  });
}

/**
 * The partition tuple's struct type (manifest field 102): field ids are the
 * partition field ids, all optional.
 */
export function partitionType(bound: readonly BoundPartitionField[]): NestedField[] {
  return bound.map((b) => ({ id: b.field['field-id'], name: b.field.name, required: false, type: b.resultType }));
}

/** The highest partition field id a set of specs uses (for `last-partition-id`). */
export function highestPartitionFieldId(specs: readonly PartitionSpec[]): number {
  let max = FIRST_PARTITION_FIELD_ID - 1;
  for (const s of specs) for (const f of s.fields) max = Math.max(max, f['field-id']);
  return max;
}

/**
 * The Hive-style relative path of a partition (`ts_day=2026-11-21/bucket=3`),
 * names and values URL-encoded as Iceberg's `PartitionSpec.partitionToPath` does.
 */
export function partitionPath(bound: readonly BoundPartitionField[], values: readonly PartitionValue[]): string {
  return bound
    .map((b, i) => {
      const human = humanString(b.transform, b.resultType, values[i] ?? null);
      return `${formEncode(b.field.name)}=${formEncode(human)}`;
    })
    .join('/');
}

/** java.net.URLEncoder (application/x-www-form-urlencoded) encoding. */
function formEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Checks two specs partition the same way (ignoring spec ids), to reuse an existing spec. */
export function sameFields(a: PartitionSpec, b: PartitionSpec): boolean {
  return (
    a.fields.length === b.fields.length &&
    a.fields.every((f, i) => {
      const g = b.fields[i];
      return g !== undefined && f['source-id'] === g['source-id'] && f.transform === g.transform && f.name === g.name;
    })
  );
}
