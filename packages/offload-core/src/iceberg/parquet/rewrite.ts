import type { StagedObject } from '../io/file-io.js';
import type { DataFile, PartitionValue } from '../spec/data-file.js';
import type { StructType } from '../spec/types.js';
import { assignFieldIds } from './field-ids.js';
import {
  FileMetaDataField,
  PARQUET_TRAILER_BYTES,
  decodeParquetFooter,
  encodeParquetFooter,
  parquetFooterStart,
  readParquetFooter,
  withSchema,
  writeParquetFooter,
} from './footer.js';
import type { ParquetFooter } from './footer.js';
import { footerMetrics } from './metrics.js';
import type { ParquetMetrics } from './metrics.js';
import { TType } from './thrift-compact.js';
import type { ThriftStruct, ThriftValue } from './thrift-compact.js';

export interface RewrittenParquet {
  readonly fileSizeInBytes: bigint;
  readonly metrics: ParquetMetrics;
}

/** Key-value metadata that would contradict the rewritten schema (an Arrow schema carries no field ids). */
const DROPPED_KEYS: readonly string[] = ['ARROW:schema'];

function withoutDroppedKeys(metadata: ThriftStruct): ThriftStruct {
  const kv = metadata.get(FileMetaDataField.keyValueMetadata);
  if (kv?.type !== TType.List) return metadata;
  const keep = kv.value.filter((entry: ThriftValue) => {
    if (entry.type !== TType.Struct) return true;
    const key = entry.value.get(1);
    return !(key?.type === TType.Binary && DROPPED_KEYS.includes(new TextDecoder().decode(key.value)));
  });
  const copy = new Map(metadata);
  copy.set(FileMetaDataField.keyValueMetadata, { ...kv, value: keep });
  return copy;
}

/**
 * Gives a Parquet file written without field ids (ClickHouse's) the ids of an
 * Iceberg schema by rewriting only its footer, and reads the file's Iceberg
 * metrics from that footer.
 */
export async function rewriteWithFieldIds(path: string, schema: StructType): Promise<RewrittenParquet> {
  const footer = await readParquetFooter(path);
  const { metadata, metrics } = withFieldIds(footer, schema);
  const size = await writeParquetFooter(path, footer, metadata);
  return { fileSizeInBytes: BigInt(size), metrics };
}

function withFieldIds(footer: ParquetFooter, schema: StructType): { metadata: ThriftStruct; metrics: ParquetMetrics } {
  const { elements, leaves } = assignFieldIds(footer.metadata, schema);
  const metadata = withoutDroppedKeys(withSchema(footer.metadata, elements));
  return { metadata, metrics: footerMetrics(metadata, leaves) };
}

/** A staged Parquet object's new tail: its footer with field ids, to publish after its first `keepBytes`. */
export interface FieldIdTail {
  readonly keepBytes: number;
  readonly tail: Uint8Array;
  readonly rewritten: RewrittenParquet;
}

/** Most footers fit in this much of a file's end, so one ranged read usually gets the trailer and the footer together. */
const TAIL_GUESS_BYTES = 64 * 1024;

/**
 * {@link rewriteWithFieldIds} for an object another process wrote (see
 * `FileIO.stageObject`): reads only the object's end (ranged reads: the
 * trailer and the footer), and returns the footer with field ids and the
 * metrics from it; `StagedObject.publishWithTail` then writes it.
 */
export async function fieldIdTail(staged: StagedObject, schema: StructType): Promise<FieldIdTail> {
  let { bytes, size } = await staged.readTail(TAIL_GUESS_BYTES);
  const footerStart = parquetFooterStart(bytes.subarray(bytes.length - PARQUET_TRAILER_BYTES), size, staged.location);
  const footerBytes = size - footerStart;
  if (footerBytes > bytes.length) ({ bytes, size } = await staged.readTail(footerBytes));
  const footer = decodeParquetFooter(bytes.subarray(bytes.length - footerBytes, bytes.length - PARQUET_TRAILER_BYTES), footerStart, size, staged.location);
  const { metadata, metrics } = withFieldIds(footer, schema);
  const tail = encodeParquetFooter(metadata);
  return { keepBytes: footerStart, tail, rewritten: { fileSizeInBytes: BigInt(footerStart + tail.length), metrics } };
}

/** The manifest entry of a Parquet file whose footer {@link rewriteWithFieldIds} rewrote, once it is at `filePath`. */
export function parquetDataFile(filePath: string, partition: readonly PartitionValue[], rewritten: RewrittenParquet): DataFile {
  const m = rewritten.metrics;
  return {
    filePath,
    fileFormat: 'PARQUET',
    partition,
    recordCount: m.recordCount,
    fileSizeInBytes: rewritten.fileSizeInBytes,
    columnSizes: m.columnSizes,
    valueCounts: m.valueCounts,
    nullValueCounts: m.nullValueCounts,
    nanValueCounts: new Map(),
    lowerBounds: m.lowerBounds,
    upperBounds: m.upperBounds,
    splitOffsets: m.splitOffsets,
  };
}
