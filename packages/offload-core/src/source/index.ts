export { checkCursorUniqueness } from './cursor-uniqueness.js';
export type { CursorUniqueness, CursorUniquenessOptions, DuplicateCursor } from './cursor-uniqueness.js';
export { checkSourceColumns, sourceColumnIssues } from './column-check.js';
