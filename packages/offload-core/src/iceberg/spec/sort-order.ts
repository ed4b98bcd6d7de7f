/** One sort field as in table-metadata JSON. */
export interface SortField {
  readonly 'source-id': number;
  readonly transform: string;
  readonly direction: 'asc' | 'desc';
  readonly 'null-order': 'nulls-first' | 'nulls-last';
}

/** A sort order as in table-metadata JSON. */
export interface SortOrder {
  readonly 'order-id': number;
  readonly fields: readonly SortField[];
}

/** Order id 0 is reserved for "unsorted", which is all Coldtier writes. */
export const UNSORTED_ORDER: SortOrder = { 'order-id': 0, fields: [] };
