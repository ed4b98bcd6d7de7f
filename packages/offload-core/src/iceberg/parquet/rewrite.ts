import type { DataFile, PartitionValue } from '../spec/data-file.js';
import type { StructType } from '../spec/types.js';
import { assignFieldIds } from './field-ids.js';
import { FileMetaDataField, readParquetFooter, withSchema, writeParquetFooter } from './footer.js';
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
  const { elements, leaves } = assignFieldIds(footer.metadata, schema);
  const metadata = withoutDroppedKeys(withSchema(footer.metadata, elements));
  const size = await writeParquetFooter(path, footer, metadata);
  return { fileSizeInBytes: BigInt(size), metrics: footerMetrics(metadata, leaves) };
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
