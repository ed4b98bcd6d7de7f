import { open } from 'node:fs/promises';
import { OffloadError } from '../../errors.js';
import { ThriftDecodeError, decodeStruct, encodeStruct, getI32, getString, getStructList, TType } from './thrift-compact.js';
import type { ThriftStruct } from './thrift-compact.js';

/**
 * Reading and replacing a Parquet file's footer (the Thrift `FileMetaData`
 * after the last column chunk). Field numbers follow parquet-format's
 * parquet.thrift; everything is kept as a generic Thrift tree so unknown
 * fields survive a rewrite.
 */
export const FileMetaDataField = { version: 1, schema: 2, numRows: 3, rowGroups: 4, keyValueMetadata: 5, createdBy: 6 } as const;
export const SchemaElementField = {
  type: 1,
  typeLength: 2,
  repetitionType: 3,
  name: 4,
  numChildren: 5,
  convertedType: 6,
  scale: 7,
  precision: 8,
  fieldId: 9,
  logicalType: 10,
} as const;

export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, INT96: 3, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
/** ConvertedType values that mark LIST and MAP groups in legacy writers. */
export const ConvertedType = { MAP: 1, MAP_KEY_VALUE: 2, LIST: 3, DECIMAL: 5 } as const;
/** LogicalType union members used here. */
export const LogicalTypeField = { MAP: 2, LIST: 3, DECIMAL: 5, TIMESTAMP: 8 } as const;

const MAGIC = new TextEncoder().encode('PAR1');

/** The file is not a Parquet file this code can read, or its footer is damaged. */
export class ParquetFooterError extends OffloadError {
  readonly path: string;
  constructor(path: string, message: string, options: { table?: string; cause?: unknown } = {}) {
    super('internal', `${path}: ${message}`, options);
    this.path = path;
  }
}

export interface ParquetFooter {
  readonly metadata: ThriftStruct;
  /** Byte offset where the footer starts (= end of the last column chunk / index). */
  readonly footerStart: number;
  readonly fileSize: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Bytes after the footer: its length (4 bytes, little-endian) and the magic. */
export const PARQUET_TRAILER_BYTES = 8;

/**
 * Where the footer of a file of `fileSize` bytes starts, from the file's
 * last {@link PARQUET_TRAILER_BYTES} bytes; `name` goes into errors.
 */
export function parquetFooterStart(trailer: Uint8Array, fileSize: number, name: string): number {
  if (fileSize < 12) throw new ParquetFooterError(name, `${fileSize} bytes is too small for a Parquet file`);
  if (trailer.length !== PARQUET_TRAILER_BYTES || !sameBytes(trailer.subarray(4), MAGIC)) {
    // `PARE` marks an encrypted footer; anything else is a truncated or non-Parquet file.
    throw new ParquetFooterError(name, 'missing PAR1 magic: not a Parquet file, truncated, or footer-encrypted');
  }
  const length = new DataView(trailer.buffer, trailer.byteOffset, 4).getUint32(0, true);
  const footerStart = fileSize - PARQUET_TRAILER_BYTES - length;
  if (footerStart < 4) throw new ParquetFooterError(name, `footer length ${length} exceeds the file size ${fileSize}`);
  return footerStart;
}

/** Decodes the footer bytes (from `footerStart` up to the trailer) of a file of `fileSize` bytes. */
export function decodeParquetFooter(bytes: Uint8Array, footerStart: number, fileSize: number, name: string): ParquetFooter {
  try {
    const { struct, end } = decodeStruct(bytes);
    if (end !== bytes.length) throw new ThriftDecodeError(`footer decoded to ${end} of ${bytes.length} bytes`);
    return { metadata: struct, footerStart, fileSize };
  } catch (cause) {
    throw new ParquetFooterError(name, 'cannot decode the FileMetaData footer', { cause });
  }
}

/** Reads the footer of a local Parquet file without reading its data pages. */
export async function readParquetFooter(path: string): Promise<ParquetFooter> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 12) throw new ParquetFooterError(path, `${size} bytes is too small for a Parquet file`);
    const head = new Uint8Array(4);
    await handle.read(head, 0, 4, 0);
    if (!sameBytes(head, MAGIC)) throw new ParquetFooterError(path, 'missing PAR1 magic: not a Parquet file, truncated, or footer-encrypted');
    const trailer = new Uint8Array(PARQUET_TRAILER_BYTES);
    await handle.read(trailer, 0, PARQUET_TRAILER_BYTES, size - PARQUET_TRAILER_BYTES);
    const footerStart = parquetFooterStart(trailer, size, path);
    const bytes = new Uint8Array(size - PARQUET_TRAILER_BYTES - footerStart);
    await handle.read(bytes, 0, bytes.length, footerStart);
    return decodeParquetFooter(bytes, footerStart, size, path);
  } finally {
    await handle.close();
  }
}

/** The bytes that end a Parquet file with this footer: the encoded `FileMetaData`, its length and the magic. */
export function encodeParquetFooter(metadata: ThriftStruct): Uint8Array {
  const encoded = encodeStruct(metadata);
  const tail = new Uint8Array(encoded.length + PARQUET_TRAILER_BYTES);
  tail.set(encoded, 0);
  new DataView(tail.buffer).setUint32(encoded.length, encoded.length, true);
  tail.set(MAGIC, encoded.length + 4);
  return tail;
}

/**
 * Replaces the footer in place: truncates at the old footer's start and
 * appends the new one with its length and magic. Data pages, page indexes and
 * bloom filters precede the footer, and every offset that points at them is
 * absolute, so they stay valid. Returns the new file size. Not flushed to
 * disk: whoever publishes the file does that (`FileIO.stage`).
 */
export async function writeParquetFooter(path: string, footer: ParquetFooter, metadata: ThriftStruct): Promise<number> {
  const tail = encodeParquetFooter(metadata);
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(footer.footerStart);
    await handle.write(tail, 0, tail.length, footer.footerStart);
  } finally {
    await handle.close();
  }
  return footer.footerStart + tail.length;
}

/** A Parquet schema element with its children, rebuilt from the flat depth-first list. */
export interface SchemaNode {
  /** Index in the footer's flat `schema` list. */
  readonly index: number;
  readonly element: ThriftStruct;
  readonly name: string;
  readonly repetition: number | undefined;
  readonly children: readonly SchemaNode[];
}

/** Builds the schema tree; the root is the message element. */
export function schemaTree(metadata: ThriftStruct): SchemaNode {
  const elements = getStructList(metadata, FileMetaDataField.schema, 'FileMetaData');
  let next = 0;
  const build = (): SchemaNode => {
    const index = next++;
    const element = elements[index];
    if (element === undefined) throw new ThriftDecodeError('schema list ends inside a group');
    const count = getI32(element, SchemaElementField.numChildren, 'SchemaElement') ?? 0;
    const children: SchemaNode[] = [];
    for (let i = 0; i < count; i++) children.push(build());
    return {
      index,
      element,
      name: getString(element, SchemaElementField.name, 'SchemaElement') ?? '',
      repetition: getI32(element, SchemaElementField.repetitionType, 'SchemaElement'),
      children,
    };
  };
  const root = build();
  if (next !== elements.length) throw new ThriftDecodeError(`schema tree covers ${next} of ${elements.length} elements`);
  return root;
}

/** Replaces the footer's schema list. */
export function withSchema(metadata: ThriftStruct, elements: readonly ThriftStruct[]): ThriftStruct {
  const copy = new Map(metadata);
  copy.set(FileMetaDataField.schema, {
    type: TType.List,
    elementType: TType.Struct,
    value: elements.map((value) => ({ type: TType.Struct, value })),
  });
  return copy;
}
