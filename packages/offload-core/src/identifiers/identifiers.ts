import { IdentifierError } from '../errors.js';

/**
 * Identifiers are both validated and quoted: validation keeps names to what
 * ClickHouse, PostgreSQL and Iceberg all accept unquoted, quoting means a name
 * is never parsed as SQL even if validation is later relaxed.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function assertIdentifier(value: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new IdentifierError(value, 'expected letters, digits and underscores, not starting with a digit (max 128)');
  }
  return value;
}

export function isIdentifier(value: string): boolean {
  return IDENTIFIER.test(value);
}

/** A two-part name such as `k2.bronze_trades` (database.table or namespace.table). */
export interface QualifiedName {
  readonly namespace: string;
  readonly name: string;
}

export function parseQualifiedName(value: string): QualifiedName {
  const parts = value.split('.');
  if (parts.length !== 2) {
    throw new IdentifierError(value, 'expected exactly two dot-separated parts (database.table)');
  }
  return { namespace: assertIdentifier(parts[0]!), name: assertIdentifier(parts[1]!) };
}

/** ClickHouse quoting: backticks. */
export function quoteClickHouse(identifier: string): string {
  return `\`${assertIdentifier(identifier)}\``;
}

export function quoteClickHouseQualified(name: QualifiedName): string {
  return `${quoteClickHouse(name.namespace)}.${quoteClickHouse(name.name)}`;
}

/** PostgreSQL quoting: double quotes. */
export function quotePostgres(identifier: string): string {
  return `"${assertIdentifier(identifier)}"`;
}
