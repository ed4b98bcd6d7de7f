import type { DataFile } from '../src/iceberg/spec/data-file.js';
import type { IcebergSchema } from '../src/iceberg/spec/types.js';

export const tradesSchema: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'trade_id', required: false, type: 'long' },
    { id: 2, name: 'symbol', required: false, type: 'string' },
    { id: 3, name: 'price', required: false, type: 'double' },
  ],
};

/** A data-file descriptor for metadata-only tests (no Parquet file behind it). */
export function fakeDataFile(path: string, records: number, partition: DataFile['partition'] = []): DataFile {
  return {
    filePath: path,
    fileFormat: 'PARQUET',
    partition,
    recordCount: BigInt(records),
    fileSizeInBytes: BigInt(records * 10),
    columnSizes: new Map([[1, 8n]]),
    valueCounts: new Map([[1, BigInt(records)]]),
    nullValueCounts: new Map([[1, 0n]]),
    nanValueCounts: new Map(),
    lowerBounds: new Map(),
    upperBounds: new Map(),
    splitOffsets: [4n],
  };
}

export const noSleep = (): Promise<void> => Promise.resolve();
