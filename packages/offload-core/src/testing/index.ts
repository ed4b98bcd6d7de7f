/**
 * @coldtier/offload-core/testing — stand-ins with the same contracts as the
 * real parts, for services that embed Coldtier and unit-test without
 * PostgreSQL or Spark. The conformance suite in this repository runs the
 * in-memory store and the PostgreSQL store through the same tests.
 */
export { InMemoryWatermarkStore } from './memory-store.js';
export type { InMemoryWatermarkStoreOptions } from './memory-store.js';
export { ScriptedJobRunner, InMemorySource, createGate } from './scripted-runner.js';
export type { ScriptStep, SourceRow, CommittedRow, RecordedJob, ScriptedJobRunnerOptions, Gate } from './scripted-runner.js';
