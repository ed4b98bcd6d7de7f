import type { Cursor, CycleReport, CycleStatus, JobErrorType, Layer, OffloadEvent, OffloadWindow, TableOutcome } from '@coldtier/offload-core';

/** Hand-built orchestrator events, as a scripted cycle would emit them. */

const cursorAt = (at: Date, sequence: bigint): Cursor => ({ timestampMicros: BigInt(at.getTime()) * 1000n, sequence, tieBreakers: [] });

export const windowFrom = (after: Date, until: Date): OffloadWindow => ({
  after: cursorAt(after, 0n),
  untilMicros: BigInt(until.getTime()) * 1000n,
});

export function succeeded(args: {
  cycleId: string;
  table: string;
  layer: Layer;
  at: Date;
  rows: number;
  durationSeconds: number;
  jobSeconds?: number;
  window: OffloadWindow;
}): Extract<OffloadEvent, { type: 'table_succeeded' }> {
  const jobSeconds = args.jobSeconds ?? args.durationSeconds;
  const maxCursor = args.rows > 0 ? { ...args.window.after, sequence: args.window.after.sequence + BigInt(args.rows) } : null;
  return {
    type: 'table_succeeded',
    cycleId: args.cycleId,
    table: args.table,
    layer: args.layer,
    at: args.at,
    runId: `${args.cycleId}-${args.table}`,
    window: args.window,
    result: {
      rowsWritten: args.rows,
      maxCursor,
      bytesWritten: args.rows * 100,
      snapshotId: args.rows > 0 ? '42' : null,
      timings: { startedAt: new Date(args.at.getTime() - jobSeconds * 1000), finishedAt: args.at, durationSeconds: jobSeconds },
    },
    watermark: maxCursor ?? args.window.after,
    attempts: 1,
    durationSeconds: args.durationSeconds,
  };
}

export function failed(args: {
  cycleId: string;
  table: string;
  layer: Layer;
  at: Date;
  errorType: JobErrorType;
  attempts: number;
  durationSeconds: number;
}): Extract<OffloadEvent, { type: 'table_failed' }> {
  return { type: 'table_failed', runId: `${args.cycleId}-${args.table}`, message: `offload ${args.errorType}`, ...args };
}

export function retrying(args: {
  cycleId: string;
  table: string;
  layer: Layer;
  at: Date;
  errorType: JobErrorType;
  attempt: number;
}): Extract<OffloadEvent, { type: 'table_retrying' }> {
  return { type: 'table_retrying', runId: `${args.cycleId}-${args.table}`, message: `offload ${args.errorType}`, delayMs: 30_000, ...args };
}

export function cycleFinished(args: {
  cycleId: string;
  status: CycleStatus;
  startedAt: Date;
  finishedAt: Date;
  tables: readonly TableOutcome[];
}): Extract<OffloadEvent, { type: 'cycle_finished' }> {
  const report: CycleReport = {
    ...args,
    durationSeconds: (args.finishedAt.getTime() - args.startedAt.getTime()) / 1000,
    totalRows: args.tables.reduce((sum, t) => sum + (t.status === 'success' ? t.rows : 0), 0),
  };
  return { type: 'cycle_finished', cycleId: args.cycleId, at: args.finishedAt, report };
}
