import { gunzipSync, gzipSync } from 'node:zlib';
import { OffloadError } from '../../errors.js';
import type { FileIO } from '../io/file-io.js';
import { tableMetadataFromJson, tableMetadataToJson, type TableMetadata } from '../spec/table-metadata.js';

/** The table property Iceberg reads the metadata codec from (TableProperties.METADATA_COMPRESSION). */
export const METADATA_COMPRESSION = 'write.metadata.compression-codec';

/** Iceberg's TableMetadataParser.Codec. */
export type MetadataCodec = 'none' | 'gzip';

/**
 * Metadata file name endings, in the order Iceberg's HadoopTableOperations
 * probes a version: plain, gzip, then the legacy `.metadata.json.gz`.
 */
export const METADATA_SUFFIXES = ['.metadata.json', '.gz.metadata.json', '.metadata.json.gz'] as const;

/** The codec a table's properties ask new metadata files to be written with; unknown codecs are refused like Iceberg does. */
export function metadataCodec(properties: Readonly<Record<string, string>>, table: string): MetadataCodec {
  const value = properties[METADATA_COMPRESSION];
  if (value === undefined) return 'none';
  const codec = value.toLowerCase();
  if (codec === 'none' || codec === 'gzip') return codec;
  throw new OffloadError('config', `table ${table}: ${METADATA_COMPRESSION}=${value} is not a metadata codec (expected none or gzip)`, { table });
}

/** The file name ending Iceberg gives metadata written with `codec`. */
export function metadataSuffix(codec: MetadataCodec): string {
  return codec === 'gzip' ? '.gz.metadata.json' : '.metadata.json';
}

/**
 * Reads a metadata file whatever its codec. Gzip is recognised by its magic
 * bytes rather than the name, so a file renamed by hand still reads.
 */
export async function readMetadataFile(io: FileIO, location: string): Promise<TableMetadata> {
  const bytes = await io.read(location);
  const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return tableMetadataFromJson(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8'), location);
}

/** The bytes of a metadata file written with `codec`. */
export function encodeMetadataFile(metadata: TableMetadata, codec: MetadataCodec): Uint8Array {
  const json = Buffer.from(tableMetadataToJson(metadata), 'utf8');
  return codec === 'gzip' ? gzipSync(json) : json;
}
