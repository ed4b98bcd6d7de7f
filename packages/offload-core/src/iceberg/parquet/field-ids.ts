import { OffloadError } from '../../errors.js';
import type { IcebergType, NestedField, StructType } from '../spec/types.js';
import { getI32, getStruct, setI32 } from './thrift-compact.js';
import type { ThriftStruct } from './thrift-compact.js';
import { ConvertedType, LogicalTypeField, Repetition, SchemaElementField, schemaTree } from './footer.js';
import type { SchemaNode } from './footer.js';

/** The Parquet schema and the Iceberg schema disagree, so ids cannot be assigned. */
export class FieldIdMappingError extends OffloadError {
  constructor(message: string, options: { table?: string } = {}) {
    super('schema', message, options);
  }
}

/** What the metrics need to know about one Parquet leaf column. */
export interface LeafColumn {
  /** `path_in_schema` joined with dots. */
  readonly path: string;
  readonly fieldId: number;
  readonly type: IcebergType;
  /** Under a list or map: Iceberg keeps no bounds for such leaves. */
  readonly repeated: boolean;
  readonly element: ThriftStruct;
}

export interface FieldIdAssignment {
  /** The footer's schema elements with `field_id` set. */
  readonly elements: readonly ThriftStruct[];
  readonly leaves: ReadonlyMap<string, LeafColumn>;
}

function isAnnotated(node: SchemaNode, converted: number, logical: number): boolean {
  const logicalType = getStruct(node.element, SchemaElementField.logicalType, 'SchemaElement');
  return getI32(node.element, SchemaElementField.convertedType, 'SchemaElement') === converted || logicalType?.has(logical) === true;
}

/**
 * Assigns Iceberg field ids to every schema element of a Parquet file —
 * columns, struct fields, list elements, map keys and values — matching
 * elements to Iceberg fields by name and shape, the way Iceberg's own Parquet
 * writer places them: a list's element id on the `element` node (not the
 * repeated `list` group), a map's key and value ids on `key` and `value`.
 * Iceberg fields missing from the file are allowed (readers project nulls);
 * Parquet elements without an Iceberg field are not.
 */
export function assignFieldIds(metadata: ThriftStruct, schema: StructType): FieldIdAssignment {
  const root = schemaTree(metadata);
  const ids = new Map<number, number>();
  const leaves = new Map<string, LeafColumn>();

  const visit = (node: SchemaNode, id: number, type: IcebergType, path: readonly string[], repeated: boolean): void => {
    ids.set(node.index, id);
    const here = [...path, node.name];
    if (typeof type === 'string') {
      if (node.children.length > 0) throw mismatch(here, `is a group in Parquet but ${type} in Iceberg`);
      leaves.set(here.join('.'), { path: here.join('.'), fieldId: id, type, repeated, element: node.element });
      return;
    }
    if (type.type === 'struct') {
      visitStruct(node, type, here, repeated);
      return;
    }
    if (type.type === 'list') {
      if (!isAnnotated(node, ConvertedType.LIST, LogicalTypeField.LIST)) throw mismatch(here, 'is a list in Iceberg but not a LIST group in Parquet');
      const [inner] = repeatedChild(node, here);
      // Three-level lists put the element under the repeated group; legacy two-level lists repeat the element itself.
      const element = inner.children.length === 1 && inner.repetition === Repetition.REPEATED && inner.children[0] ? inner.children[0] : inner;
      const elementPath = element === inner ? here : [...here, inner.name];
      visit(element, type['element-id'], type.element, elementPath, true);
      return;
    }
    if (!isAnnotated(node, ConvertedType.MAP, LogicalTypeField.MAP) && !isAnnotated(node, ConvertedType.MAP_KEY_VALUE, -1)) {
      throw mismatch(here, 'is a map in Iceberg but not a MAP group in Parquet');
    }
    const [keyValue] = repeatedChild(node, here);
    const [key, value] = keyValue.children;
    if (!key || keyValue.children.length > 2) throw mismatch(here, 'MAP group must hold a key and at most a value');
    const kvPath = [...here, keyValue.name];
    visit(key, type['key-id'], type.key, kvPath, true);
    if (value) visit(value, type['value-id'], type.value, kvPath, true);
  };

  const visitStruct = (node: SchemaNode, struct: StructType, path: readonly string[], repeated: boolean): void => {
    const byName = new Map<string, NestedField>(struct.fields.map((f) => [f.name, f]));
    for (const child of node.children) {
      const field = byName.get(child.name);
      if (!field) throw mismatch([...path, child.name], 'has no Iceberg field of that name');
      visit(child, field.id, field.type, path, repeated);
    }
  };

  visitStruct(root, schema, [], false);
  const elements = flatten(root).map((node) => {
    const id = ids.get(node.index);
    return id === undefined ? node.element : setI32(node.element, SchemaElementField.fieldId, id);
  });
  // Leaves carry the updated element so later readers of `leaves` see the id.
  for (const leaf of leaves.values()) {
    leaves.set(leaf.path, { ...leaf, element: setI32(leaf.element, SchemaElementField.fieldId, leaf.fieldId) });
  }
  return { elements, leaves };
}

function repeatedChild(node: SchemaNode, path: readonly string[]): [SchemaNode] {
  const [child] = node.children;
  if (!child || node.children.length !== 1 || child.repetition !== Repetition.REPEATED) {
    throw mismatch(path, 'LIST/MAP group must have exactly one repeated child');
  }
  return [child];
}

function flatten(node: SchemaNode): SchemaNode[] {
  return [node, ...node.children.flatMap(flatten)];
}

function mismatch(path: readonly string[], detail: string): FieldIdMappingError {
  return new FieldIdMappingError(`Parquet column ${path.join('.')} ${detail}`);
}
