/** Row formats without a header or footer: chdb's chunks of them concatenate into one valid result. */
const STREAMABLE = new Set(
  [
    'TabSeparated', 'TSV', 'TabSeparatedRaw', 'TSVRaw', 'CSV', 'JSONEachRow', 'JSONLines', 'NDJSON', 'JSONStringsEachRow',
    'JSONCompactEachRow', 'JSONCompactStringsEachRow', 'RowBinary', 'Values', 'LineAsString', 'RawBLOB', 'Null',
  ].map((f) => f.toLowerCase()),
);

/** The format named by a trailing `FORMAT x` clause (optionally followed by `SETTINGS`), as ClickHouse's parser takes it. */
export function formatClause(sql: string): string | undefined {
  return /\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*(?:\bSETTINGS\b[^;]*)?;?\s*$/i.exec(sql)?.[1];
}

/** The output format of a query: its FORMAT clause, else `default_format`, else TabSeparated. */
export function outputFormat(sql: string, defaultFormat: string | undefined): string {
  return formatClause(sql) ?? defaultFormat ?? 'TabSeparated';
}

/**
 * Whether the result can be streamed chunk by chunk. chdb streams only SELECTs, and
 * writes each chunk as a complete document, so formats with a header or a footer
 * (JSON, Parquet, *WithNames) are produced whole and then sent.
 */
export function isStreamable(sql: string, format: string): boolean {
  return STREAMABLE.has(format.toLowerCase()) && /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()*(SELECT|WITH)\b/i.test(sql);
}

/** The `Content-Type` ClickHouse sends for a format. */
export function contentType(format: string): string {
  const f = format.toLowerCase();
  if (f.startsWith('json') || f === 'ndjson') return 'application/json; charset=UTF-8';
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return `text/csv; charset=UTF-8; header=${f === 'csv' ? 'absent' : 'present'}`;
  if (f.startsWith('pretty') || f === 'values' || f === 'vertical' || f === 'markdown') return 'text/plain; charset=UTF-8';
  if (f === 'xml') return 'application/xml; charset=UTF-8';
  return 'application/octet-stream';
}
