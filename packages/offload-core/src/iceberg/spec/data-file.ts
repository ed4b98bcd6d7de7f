/** A partition value as stored in a manifest's partition struct (null for a null partition). */
export type PartitionValue = number | bigint | string | boolean | Uint8Array | null;

/**
 * A data file ready to be committed: what a manifest entry's `data_file`
 * struct records (Iceberg spec, format v2, content = data). Maps are keyed by
 * field id; bounds are in the spec's single-value binary serialisation.
 */
export interface DataFile {
  /** Absolute location as readers will resolve it (a path or file:// URI). */
  readonly filePath: string;
  readonly fileFormat: 'PARQUET';
  /** One value per partition field of the spec, in spec order. */
  readonly partition: readonly PartitionValue[];
  readonly recordCount: bigint;
  readonly fileSizeInBytes: bigint;
  readonly columnSizes: ReadonlyMap<number, bigint>;
  readonly valueCounts: ReadonlyMap<number, bigint>;
  readonly nullValueCounts: ReadonlyMap<number, bigint>;
  readonly nanValueCounts: ReadonlyMap<number, bigint>;
  readonly lowerBounds: ReadonlyMap<number, Uint8Array>;
  readonly upperBounds: ReadonlyMap<number, Uint8Array>;
  /** Row-group start offsets, for split planning. */
  readonly splitOffsets: readonly bigint[];
  readonly sortOrderId?: number;
}
