export {
  assertIdentifier,
  isIdentifier,
  parseQualifiedName,
  quoteClickHouse,
  quoteClickHouseQualified,
  quotePostgres,
} from './identifiers.js';
export type { QualifiedName } from './identifiers.js';
