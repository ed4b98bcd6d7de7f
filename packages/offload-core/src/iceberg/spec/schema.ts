import { IcebergSpecError } from './errors.js';
import type { IcebergSchema, IcebergType, NestedField, PrimitiveType } from './types.js';

/** Every field of a schema, nested ones included, in depth-first order. */
export function allFields(schema: IcebergSchema): NestedField[] {
  const out: NestedField[] = [];
  const visit = (type: IcebergType): void => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') {
      for (const field of type.fields) {
        out.push(field);
        visit(field.type);
      }
    } else if (type.type === 'list') visit(type.element);
    else {
      visit(type.key);
      visit(type.value);
    }
  };
  visit(schema);
  return out;
}

/** The field with this id, at any depth. */
export function findFieldById(schema: IcebergSchema, id: number): NestedField | undefined {
  return allFields(schema).find((f) => f.id === id);
}

/** A top-level field by name, or a nested struct field by dotted path (`a.b`). */
export function findFieldByName(schema: IcebergSchema, name: string): NestedField | undefined {
  let fields: readonly NestedField[] = schema.fields;
  let found: NestedField | undefined;
  for (const part of name.split('.')) {
    found = fields.find((f) => f.name === part);
    if (!found) return undefined;
    fields = typeof found.type !== 'string' && found.type.type === 'struct' ? found.type.fields : [];
  }
  return found;
}

/** The highest id a schema uses, counting list element and map key/value ids (for `last-column-id`). */
export function highestFieldId(schema: IcebergSchema): number {
  let max = 0;
  const visit = (type: IcebergType): void => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') {
      for (const f of type.fields) {
        max = Math.max(max, f.id);
        visit(f.type);
      }
    } else if (type.type === 'list') {
      max = Math.max(max, type['element-id']);
      visit(type.element);
    } else {
      max = Math.max(max, type['key-id'], type['value-id']);
      visit(type.key);
      visit(type.value);
    }
  };
  visit(schema);
  return max;
}

/** Whether a type is primitive (a string in the spec's JSON form). */
export function isPrimitive(type: IcebergType): type is PrimitiveType {
  return typeof type === 'string';
}

/** Precision and scale of a `decimal(P, S)` type. */
export function decimalParams(type: string): { precision: number; scale: number } | undefined {
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** Length of a `fixed[L]` type. */
export function fixedLength(type: string): number | undefined {
  const m = /^fixed\[(\d+)\]$/.exec(type);
  return m ? Number(m[1]) : undefined;
}

/**
 * Reads a schema from table-metadata JSON (the model has the spec's shape,
 * so JSON.stringify writes it), checking the structure so a
 * malformed metadata file fails here rather than deep inside a writer.
 */
export function schemaFromJson(json: unknown): IcebergSchema {
  const fail = (what: string): never => {
    throw new IcebergSpecError(`invalid Iceberg schema JSON: ${what}`);
  };
  if (typeof json !== 'object' || json === null) return fail('not an object');
  const o = json as Record<string, unknown>;
  if (o['type'] !== 'struct' || !Array.isArray(o['fields'])) fail('expected {"type":"struct","fields":[...]}');
  if (typeof o['schema-id'] !== 'number') fail('missing schema-id');
  const checkType = (t: unknown, at: string): void => {
    if (typeof t === 'string') return;
    if (typeof t !== 'object' || t === null) return fail(`type of ${at} is ${JSON.stringify(t)}`);
    const n = t as Record<string, unknown>;
    if (n['type'] === 'struct') {
      if (!Array.isArray(n['fields'])) fail(`struct ${at} has no fields`);
      for (const f of n['fields'] as unknown[]) {
        const field = f as Record<string, unknown>;
        if (typeof field['id'] !== 'number' || typeof field['name'] !== 'string') fail(`field in ${at} lacks id or name`);
        checkType(field['type'], String(field['name']));
      }
    } else if (n['type'] === 'list') checkType(n['element'], `${at}.element`);
    else if (n['type'] === 'map') {
      checkType(n['key'], `${at}.key`);
      checkType(n['value'], `${at}.value`);
    } else fail(`unknown type at ${at}`);
  };
  checkType(o, 'schema');
  return json as IcebergSchema;
}
