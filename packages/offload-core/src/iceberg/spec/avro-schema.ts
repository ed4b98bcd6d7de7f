import { decimalParams, fixedLength } from './schema.js';
import type { IcebergType, NestedField, PrimitiveType, StructType } from './types.js';

/**
 * Converts an Iceberg struct to the Avro schema Iceberg's Java writer
 * derives from it (AvroSchemaUtil): records named `r<field-id>`, optional
 * fields as `["null", T]` with default null, every field tagged `field-id`,
 * lists as arrays with `element-id`, int-keyed maps as arrays of
 * `k<key-id>_v<value-id>` records with `logicalType: "map"`.
 */
export function structToAvro(struct: StructType, recordName: string): object {
  const named = new Set<string>();
  return recordOf(struct, recordName, named);
}

function recordOf(struct: StructType, name: string, named: Set<string>): object {
  named.add(name);
  return { type: 'record', name, fields: struct.fields.map((f) => fieldOf(f, named)) };
}

function fieldOf(f: NestedField, named: Set<string>): object {
  const type = typeOf(f.type, f.id, named);
  return {
    name: f.name,
    type: f.required ? type : ['null', type],
    ...(f.doc !== undefined ? { doc: f.doc } : {}),
    ...(f.required ? {} : { default: null }),
    'field-id': f.id,
  };
}

function typeOf(t: IcebergType, fieldId: number, named: Set<string>): unknown {
  if (typeof t === 'string') return primitiveOf(t, named);
  if (t.type === 'struct') return recordOf(t, `r${fieldId}`, named);
  if (t.type === 'list') {
    const element = typeOf(t.element, t['element-id'], named);
    return { type: 'array', items: t['element-required'] ? element : ['null', element], 'element-id': t['element-id'] };
  }
  const value = typeOf(t.value, t['value-id'], named);
  if (t.key === 'string') {
    return { type: 'map', values: t['value-required'] ? value : ['null', value], 'key-id': t['key-id'], 'value-id': t['value-id'] };
  }
  const entry = {
    type: 'record',
    name: `k${t['key-id']}_v${t['value-id']}`,
    fields: [
      { name: 'key', type: typeOf(t.key, t['key-id'], named), 'field-id': t['key-id'] },
      { name: 'value', type: t['value-required'] ? value : ['null', value], 'field-id': t['value-id'] },
    ],
  };
  return { type: 'array', items: entry, logicalType: 'map' };
}

function primitiveOf(t: PrimitiveType, named: Set<string>): unknown {
  const fixed = (name: string, schema: object): unknown => {
    if (named.has(name)) return name;
    named.add(name);
    return schema;
  };
  switch (t) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
      return t;
    case 'binary':
      return 'bytes';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'uuid':
      return fixed('uuid_fixed', { type: 'fixed', name: 'uuid_fixed', size: 16, logicalType: 'uuid' });
  }
  const dec = decimalParams(t);
  if (dec) {
    const name = `decimal_${dec.precision}_${dec.scale}`;
    return fixed(name, { type: 'fixed', name, size: decimalRequiredBytes(dec.precision), logicalType: 'decimal', ...dec });
  }
  const len = fixedLength(t) ?? 0;
  return fixed(`fixed_${len}`, { type: 'fixed', name: `fixed_${len}`, size: len });
}

/** Bytes a fixed-width decimal of this precision needs (Iceberg's TypeUtil.decimalRequiredBytes). */
export function decimalRequiredBytes(precision: number): number {
  let bytes = 1;
  while (2 ** (8 * bytes - 1) - 1 < 10 ** precision) bytes++;
  return bytes;
}
