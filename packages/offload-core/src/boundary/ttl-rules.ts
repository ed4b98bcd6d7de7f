/**
 * A table's row TTL as ClickHouse prints it in `system.tables.engine_full`
 * (`... TTL ts + toIntervalDay(7), ts + toIntervalDay(1) WHERE v > 100 SETTINGS ...`).
 * ClickHouse has no column holding the TTL rules apart, so the clause is cut
 * out of the engine text at the top level (outside brackets and quotes).
 */

/** One TTL rule that deletes rows: when `expression` has passed (and `where` holds, if given). */
export interface TtlDeleteRule {
  readonly expression: string;
  readonly where?: string;
}

/** Rules that move, recompress or aggregate rows instead of deleting them. */
const NON_DELETE = [' TO DISK ', ' TO VOLUME ', ' RECOMPRESS ', ' GROUP BY '];

/** Positions where `text` is outside brackets and quotes, calling `visit` with each. */
function topLevel(text: string, visit: (index: number) => boolean | void): void {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== null) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (depth === 0 && visit(i) === true) return;
  }
}

function indexOfTopLevel(text: string, keyword: string, from = 0): number {
  let found = -1;
  topLevel(text, (i) => {
    if (i >= from && text.startsWith(keyword, i)) {
      found = i;
      return true;
    }
    return false;
  });
  return found;
}

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  topLevel(text, (i) => {
    if (text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
    }
  });
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/**
 * The row-deleting TTL rules of a MergeTree table from its `engine_full`;
 * empty when the table has no row TTL. Column TTLs (which reset values, not
 * delete rows) live in the column list and are not part of `engine_full`.
 */
export function parseTtlDeleteRules(engineFull: string): TtlDeleteRule[] {
  const start = indexOfTopLevel(engineFull, ' TTL ');
  if (start < 0) return [];
  const bodyStart = start + ' TTL '.length;
  const end = indexOfTopLevel(engineFull, ' SETTINGS ', bodyStart);
  const clause = engineFull.slice(bodyStart, end < 0 ? undefined : end);
  const rules: TtlDeleteRule[] = [];
  for (const rule of splitTopLevel(clause, ',')) {
    const padded = ` ${rule} `;
    if (NON_DELETE.some((keyword) => indexOfTopLevel(padded, keyword) >= 0)) continue;
    const where = indexOfTopLevel(padded, ' WHERE ');
    const head = (where < 0 ? padded : padded.slice(0, where)).trim().replace(/\s+DELETE$/, '');
    rules.push(where < 0 ? { expression: head } : { expression: head, where: padded.slice(where + ' WHERE '.length).trim() });
  }
  return rules;
}
