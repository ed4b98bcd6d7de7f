import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { LeaseUnavailableError, UnknownTableError, WatermarkConflictError } from '../src/errors.js';
import { INITIAL_CURSOR, formatCursor } from '../src/watermark/cursor.js';
import type { Cursor, CursorValue } from '../src/watermark/cursor.js';
import type { CycleRecord, Lease, WatermarkStore } from '../src/watermark/store.js';
import type { OffloadWindow } from '../src/watermark/window.js';

/** Builds a fresh, empty store whose every timestamp comes from `clock`. */
export type WatermarkStoreFactory = (clock: ManualClock) => Promise<WatermarkStore>;

const START = new Date('2026-11-21T14:00:00.000Z');
const MINUTE = 60_000;
/** 2026-11-21T14:07:00.123456Z: a timestamp with microseconds that a Date cannot hold. */
const T = 1_795_270_020_123_456n;

function cursor(timestampMicros: bigint, sequence: bigint, ...tieBreakers: CursorValue[]): Cursor {
  return { timestampMicros, sequence, tieBreakers };
}

function windowAfter(after: Cursor): OffloadWindow {
  return { after, untilMicros: T + 300_000_000n };
}

/**
 * The behaviour every `WatermarkStore` must share. Run by one test file per
 * implementation, so the in-memory store used by orchestrator tests cannot
 * drift from the PostgreSQL store used in production.
 */
export function describeWatermarkStoreConformance(name: string, factory: WatermarkStoreFactory): void {
  describe(`${name} (WatermarkStore conformance)`, () => {
    let clock: ManualClock;
    let store: WatermarkStore;
    let runs = 0;

    beforeEach(async () => {
      clock = new ManualClock(START);
      store = await factory(clock);
    });

    /** Starts and completes one run; returns its id. */
    async function offload(lease: Lease, after: Cursor, to: Cursor | null, rows = 1): Promise<string> {
      const runId = `run-${++runs}`;
      await store.startRun(lease, { runId, window: windowAfter(after) });
      await store.completeRun(lease, { runId, window: windowAfter(after), cursor: to, rows, durationSeconds: 1.5, snapshotId: `snap-${runs}` });
      return runId;
    }

    async function startedRun(lease: Lease, after: Cursor = INITIAL_CURSOR): Promise<string> {
      const runId = `run-${++runs}`;
      await store.startRun(lease, { runId, window: windowAfter(after) });
      return runId;
    }

    describe('tables', () => {
      it('registers tables at the initial watermark, once', async () => {
        await store.ensureTables(['b_table', 'a_table']);
        const lease = await store.acquireLease('a_table', 'w1', MINUTE);
        await offload(lease, INITIAL_CURSOR, cursor(T, 5n));
        clock.advance(MINUTE);
        await store.ensureTables(['a_table', 'c_table']);

        const a = await store.get('a_table');
        expect(a?.cursor).toEqual(cursor(T, 5n));
        expect(a?.createdAt).toEqual(START);
        const c = await store.get('c_table');
        expect(c).toMatchObject({ cursor: INITIAL_CURSOR, status: 'initialized', failureCount: 0, lastRowCount: 0 });
        expect(c).toMatchObject({ lastSuccessfulRunAt: null, lastErrorMessage: null, advancedAt: null, lastRunDurationSeconds: null });
        expect(c?.createdAt).toEqual(clock.now());
        expect((await store.list()).map((s) => s.table)).toEqual(['a_table', 'b_table', 'c_table']);
        expect(await store.get('missing')).toBeUndefined();
      });

      it('refuses runs on a table that was never registered', async () => {
        const lease = await store.acquireLease('ghost', 'w1', MINUTE);
        await expect(store.startRun(lease, { runId: 'r', window: windowAfter(INITIAL_CURSOR) })).rejects.toBeInstanceOf(UnknownTableError);
        await expect(store.fastForward('ghost', cursor(T, 1n))).rejects.toBeInstanceOf(UnknownTableError);
      });
    });

    describe('compare-and-set', () => {
      beforeEach(async () => {
        await store.ensureTables(['t']);
      });

      it('orders cursors that share a timestamp by sequence, and refuses a stale writer', async () => {
        const lease = await store.acquireLease('t', 'w1', MINUTE);
        await offload(lease, INITIAL_CURSOR, cursor(T, 5n));

        const stale = `run-${++runs}`;
        await store.startRun(lease, { runId: stale, window: windowAfter(cursor(T, 5n)) });
        await offload(lease, cursor(T, 5n), cursor(T, 9n));
        expect((await store.get('t'))?.cursor).toEqual(cursor(T, 9n));

        const refused = store.completeRun(lease, {
          runId: stale, window: windowAfter(cursor(T, 5n)), cursor: cursor(T, 7n), rows: 2, durationSeconds: 1, snapshotId: null,
        });
        await expect(refused).rejects.toBeInstanceOf(WatermarkConflictError);
        await expect(refused).rejects.toThrow(formatCursor(cursor(T, 5n)));
        await expect(refused).rejects.toThrow(formatCursor(cursor(T, 9n)));
        expect((await store.get('t'))?.cursor).toEqual(cursor(T, 9n));
      });

      it('never moves the cursor backwards or in place', async () => {
        const lease = await store.acquireLease('t', 'w1', MINUTE);
        await offload(lease, INITIAL_CURSOR, cursor(T, 5n));
        for (const to of [cursor(T, 5n), cursor(T, 4n), cursor(T - 1n, 99n)]) {
          await expect(offload(lease, cursor(T, 5n), to)).rejects.toBeInstanceOf(WatermarkConflictError);
        }
        expect((await store.get('t'))?.cursor).toEqual(cursor(T, 5n));
      });

      it('round-trips tie-breakers with their types and compares them', async () => {
        const lease = await store.acquireLease('t', 'w1', MINUTE);
        const big = 2n ** 70n;
        await offload(lease, INITIAL_CURSOR, cursor(T, 5n, big, 'abc'));
        const stored = (await store.get('t'))?.cursor;
        expect(stored).toEqual(cursor(T, 5n, big, 'abc'));
        expect(typeof stored?.tieBreakers[0]).toBe('bigint');
        expect(typeof stored?.tieBreakers[1]).toBe('string');
        await expect(offload(lease, cursor(T, 5n, big, 'abc'), cursor(T, 5n, big, 'abb'))).rejects.toBeInstanceOf(WatermarkConflictError);
        await offload(lease, cursor(T, 5n, big, 'abc'), cursor(T, 5n, big, 'abd'));
        expect((await store.get('t'))?.cursor).toEqual(cursor(T, 5n, big, 'abd'));
      });

      it('records a success: counts reset, cursor and advancedAt move, history closed', async () => {
        const lease = await store.acquireLease('t', 'w1', MINUTE);
        for (let i = 0; i < 2; i++) {
          await store.failRun(lease, { runId: await startedRun(lease), errorType: 'timeout', message: 'slow', durationSeconds: 600 });
        }
        clock.advance(MINUTE / 2);
        const runId = `run-${++runs}`;
        await store.startRun(lease, { runId, window: windowAfter(INITIAL_CURSOR) });
        expect((await store.get('t'))?.status).toBe('running');
        const state = await store.completeRun(lease, {
          runId, window: windowAfter(INITIAL_CURSOR), cursor: cursor(T, 1n), rows: 3_850_000, durationSeconds: 14.2, snapshotId: '123456789',
        });
        expect(state).toMatchObject({ status: 'success', failureCount: 0, lastRowCount: 3_850_000, lastRunDurationSeconds: 14.2 });
        expect(state.lastSuccessfulRunAt).toEqual(clock.now());
        expect(state.advancedAt).toEqual(clock.now());
        expect(await store.get('t')).toEqual(state);
        const [run] = await store.recentRuns({ table: 't', limit: 1 });
        expect(run).toMatchObject({ runId, outcome: 'success', rows: 3_850_000, snapshotId: '123456789', errorType: null });
        expect(run?.finishedAt).toEqual(clock.now());
        expect(run?.window).toEqual(windowAfter(INITIAL_CURSOR));
      });

      it('keeps the cursor and advancedAt on an empty window', async () => {
        const lease = await store.acquireLease('t', 'w1', MINUTE);
        await offload(lease, INITIAL_CURSOR, cursor(T, 5n));
        const advancedAt = clock.now();
        clock.advance(MINUTE / 2);
        await offload(lease, cursor(T, 5n), null, 0);
        const state = await store.get('t');
        expect(state).toMatchObject({ cursor: cursor(T, 5n), status: 'success', lastRowCount: 0 });
        expect(state?.advancedAt).toEqual(advancedAt);
        expect(state?.lastSuccessfulRunAt).toEqual(clock.now());
      });

      it('treats completing a completed run again with the same cursor as a no-op', async () => {
        const lease = await store.acquireLease('t', 'w1', MINUTE);
        const runId = await startedRun(lease);
        const success = { runId, window: windowAfter(INITIAL_CURSOR), cursor: cursor(T, 4n), rows: 4, durationSeconds: 2, snapshotId: 's1' };
        const first = await store.completeRun(lease, success);
        clock.advance(MINUTE / 2);
        const again = await store.completeRun(lease, { ...success, durationSeconds: 3 });
        expect(again).toEqual(first);
        expect(await store.get('t')).toEqual(first);
        // Another cursor is not a repeat: the compare-and-set refuses it as usual.
        const other = store.completeRun(lease, { ...success, cursor: cursor(T, 5n) });
        await expect(other).rejects.toBeInstanceOf(WatermarkConflictError);
        // Neither is a repeat by a writer whose lease was taken over.
        clock.advance(MINUTE);
        await store.acquireLease('t', 'w2', MINUTE);
        await expect(store.completeRun(lease, success)).rejects.toBeInstanceOf(WatermarkConflictError);
      });

      it('refuses to complete a run that was never started', async () => {
        const lease = await store.acquireLease('t', 'w1', MINUTE);
        const done = store.completeRun(lease, { runId: 'nope', window: windowAfter(INITIAL_CURSOR), cursor: cursor(T, 1n), rows: 1, durationSeconds: 1, snapshotId: null });
        await expect(done).rejects.toThrow(/never started/);
        expect((await store.get('t'))?.cursor).toEqual(INITIAL_CURSOR);
      });
    });

    describe('leases', () => {
      beforeEach(async () => {
        await store.ensureTables(['t']);
      });

      it('are exclusive while live and name their holder', async () => {
        const first = await store.acquireLease('t', 'worker-a', MINUTE);
        const refused = store.acquireLease('t', 'worker-b', MINUTE);
        await expect(refused).rejects.toBeInstanceOf(LeaseUnavailableError);
        await expect(refused).rejects.toMatchObject({ holder: 'worker-a', table: 't' });
        expect(first.expiresAt).toEqual(new Date(START.getTime() + MINUTE));
        const again = await store.acquireLease('t', 'worker-a', MINUTE);
        expect(again.token).toBeGreaterThan(first.token);
        await expect(store.acquireLease('other', 'worker-b', MINUTE)).resolves.toMatchObject({ owner: 'worker-b' });
      });

      it('say until when and by whom they are held', async () => {
        await store.acquireLease('t', 'host-a:41', MINUTE);
        const until = new Date(START.getTime() + MINUTE).toISOString();
        await expect(store.acquireLease('t', 'host-b:7', MINUTE)).rejects.toThrow(`table t is held until ${until} by host-a:41`);
      });

      it('are taken over from a named dead owner only, with a new token', async () => {
        const dead = await store.acquireLease('t', 'host-a:41', MINUTE);
        await expect(store.acquireLease('t', 'host-a:99', MINUTE, { takeOverFrom: 'host-a:40' })).rejects.toBeInstanceOf(LeaseUnavailableError);
        const taken = await store.acquireLease('t', 'host-a:99', MINUTE, { takeOverFrom: 'host-a:41' });
        expect(taken.token).toBeGreaterThan(dead.token);
        await expect(store.renewLease(dead, MINUTE)).rejects.toBeInstanceOf(LeaseUnavailableError);
        await expect(store.acquireLease('t', 'host-c:1', MINUTE, { takeOverFrom: 'host-a:41' })).rejects.toMatchObject({ holder: 'host-a:99' });
      });

      it('can be taken over once expired, and fence out the old holder', async () => {
        const old = await store.acquireLease('t', 'worker-a', MINUTE);
        const oldRun = await startedRun(old);
        clock.advance(MINUTE - 1);
        await expect(store.acquireLease('t', 'worker-b', MINUTE)).rejects.toBeInstanceOf(LeaseUnavailableError);
        clock.advance(1);
        const taken = await store.acquireLease('t', 'worker-b', MINUTE);
        expect(taken.token).toBeGreaterThan(old.token);

        const late = store.completeRun(old, { runId: oldRun, window: windowAfter(INITIAL_CURSOR), cursor: cursor(T, 1n), rows: 1, durationSeconds: 1, snapshotId: null });
        await expect(late).rejects.toBeInstanceOf(WatermarkConflictError);
        await expect(store.failRun(old, { runId: oldRun, errorType: 'crash', message: 'x', durationSeconds: 1 })).rejects.toBeInstanceOf(WatermarkConflictError);
        await expect(store.startRun(old, { runId: 'late-start', window: windowAfter(INITIAL_CURSOR) })).rejects.toBeInstanceOf(WatermarkConflictError);
        await expect(store.renewLease(old, MINUTE)).rejects.toBeInstanceOf(LeaseUnavailableError);
        await store.releaseLease(old);
        await expect(store.acquireLease('t', 'worker-c', MINUTE)).rejects.toMatchObject({ holder: 'worker-b' });

        await offload(taken, INITIAL_CURSOR, cursor(T, 1n));
        expect((await store.get('t'))?.cursor).toEqual(cursor(T, 1n));
      });

      it('refuse writes with an expired lease even before anyone takes it over', async () => {
        const lease = await store.acquireLease('t', 'worker-a', MINUTE);
        const runId = await startedRun(lease);
        clock.advance(MINUTE);
        const late = store.completeRun(lease, { runId, window: windowAfter(INITIAL_CURSOR), cursor: cursor(T, 1n), rows: 1, durationSeconds: 1, snapshotId: null });
        await expect(late).rejects.toBeInstanceOf(WatermarkConflictError);
        await expect(store.renewLease(lease, MINUTE)).rejects.toBeInstanceOf(LeaseUnavailableError);
      });

      it('are extended by renewal and freed by release', async () => {
        const lease = await store.acquireLease('t', 'worker-a', MINUTE);
        clock.advance(MINUTE - 1);
        const renewed = await store.renewLease(lease, MINUTE);
        expect(renewed).toMatchObject({ token: lease.token, owner: 'worker-a' });
        expect(renewed.expiresAt).toEqual(new Date(clock.now().getTime() + MINUTE));
        clock.advance(2);
        await expect(store.acquireLease('t', 'worker-b', MINUTE)).rejects.toBeInstanceOf(LeaseUnavailableError);
        await startedRun(renewed);

        await store.releaseLease(renewed);
        await expect(store.startRun(renewed, { runId: 'after-release', window: windowAfter(INITIAL_CURSOR) })).rejects.toBeInstanceOf(WatermarkConflictError);
        const next = await store.acquireLease('t', 'worker-b', MINUTE);
        expect(next.token).toBeGreaterThan(lease.token);
      });
    });

    describe('failures', () => {
      beforeEach(async () => {
        await store.ensureTables(['t']);
      });

      it('count consecutively, truncate the message to 1000 characters, and keep the cursor', async () => {
        const lease = await store.acquireLease('t', 'w1', MINUTE);
        await offload(lease, INITIAL_CURSOR, cursor(T, 5n));
        const long = `${'x'.repeat(999)}😀${'y'.repeat(1500)}`;
        const first = await startedRun(lease, cursor(T, 5n));
        await store.failRun(lease, { runId: first, errorType: 'connection', message: 'refused', durationSeconds: 2 });
        const second = await startedRun(lease, cursor(T, 5n));
        await store.failRun(lease, { runId: second, errorType: 'process_error', message: long, durationSeconds: 3 });

        const state = await store.get('t');
        expect(state).toMatchObject({ status: 'failed', failureCount: 2, cursor: cursor(T, 5n), lastRunDurationSeconds: 3 });
        expect(Array.from(state?.lastErrorMessage ?? '')).toHaveLength(1000);
        expect(state?.lastErrorMessage?.endsWith('😀')).toBe(true);
        const [latest] = await store.recentRuns({ table: 't', limit: 1 });
        expect(latest).toMatchObject({ runId: second, outcome: 'failed', errorType: 'process_error', rows: null });
        expect(latest?.errorMessage).toBe(state?.lastErrorMessage);

        await offload(lease, cursor(T, 5n), cursor(T, 6n));
        expect(await store.get('t')).toMatchObject({ status: 'success', failureCount: 0 });
      });
    });

    describe('stale runs', () => {
      it('are reset to failed and their runs abandoned once older than the limit', async () => {
        await store.ensureTables(['stuck', 'fine', 'fresh']);
        const stuck = await store.acquireLease('stuck', 'w1', 5 * MINUTE);
        const stuckRun = await startedRun(stuck);
        await offload(await store.acquireLease('fine', 'w1', MINUTE), INITIAL_CURSOR, cursor(T, 1n));
        clock.advance(29 * MINUTE);
        const fresh = await store.acquireLease('fresh', 'w1', MINUTE);
        await startedRun(fresh);

        expect(await store.recoverStaleRuns(30 * MINUTE)).toEqual([]);
        clock.advance(MINUTE + 1);
        expect(await store.recoverStaleRuns(30 * MINUTE)).toEqual(['stuck']);

        expect(await store.get('stuck')).toMatchObject({ status: 'failed', failureCount: 1 });
        expect((await store.get('stuck'))?.lastErrorMessage).toMatch(/abandoned/);
        expect(await store.get('fine')).toMatchObject({ status: 'success' });
        expect(await store.get('fresh')).toMatchObject({ status: 'running' });
        const [run] = await store.recentRuns({ table: 'stuck' });
        expect(run).toMatchObject({ runId: stuckRun, outcome: 'abandoned' });
        expect(run?.finishedAt).toEqual(clock.now());
        expect(await store.recoverStaleRuns(30 * MINUTE)).toEqual([]);
      });
    });

    describe('fastForward', () => {
      it('moves the cursor forward only', async () => {
        await store.ensureTables(['t']);
        clock.advance(MINUTE);
        expect(await store.fastForward('t', cursor(T, 9n))).toBe(true);
        expect(await store.get('t')).toMatchObject({ cursor: cursor(T, 9n), status: 'initialized' });
        expect((await store.get('t'))?.advancedAt).toEqual(clock.now());
        clock.advance(MINUTE);
        expect(await store.fastForward('t', cursor(T, 9n))).toBe(false);
        expect(await store.fastForward('t', cursor(T, 8n, 'z'))).toBe(false);
        expect(await store.get('t')).toMatchObject({ cursor: cursor(T, 9n) });
        expect((await store.get('t'))?.advancedAt).toEqual(new Date(clock.now().getTime() - MINUTE));
        expect(await store.fastForward('t', cursor(T, 9n, 1n))).toBe(true);
      });
    });

    describe('recentRuns', () => {
      it('lists newest first, filtered by table, start time and limit', async () => {
        await store.ensureTables(['a', 'b']);
        const a = await store.acquireLease('a', 'w1', 60 * MINUTE);
        const b = await store.acquireLease('b', 'w1', 60 * MINUTE);
        const ids: string[] = [];
        for (const lease of [a, b, a, b, a]) {
          const state = await store.get(lease.table);
          ids.push(await offload(lease, state?.cursor ?? INITIAL_CURSOR, null, 0));
          clock.advance(MINUTE);
        }
        expect((await store.recentRuns()).map((r) => r.runId)).toEqual([...ids].reverse());
        expect((await store.recentRuns({ table: 'a' })).map((r) => r.runId)).toEqual([ids[4], ids[2], ids[0]]);
        const since = new Date(START.getTime() + 2 * MINUTE);
        expect((await store.recentRuns({ since })).map((r) => r.runId)).toEqual([ids[4], ids[3], ids[2]]);
        expect((await store.recentRuns({ table: 'b', since, limit: 1 })).map((r) => r.runId)).toEqual([ids[3]]);
        expect(await store.recentRuns({ table: 'c' })).toEqual([]);
      });
    });

    describe('cycle history', () => {
      function cycle(id: string, minutesAfterStart: number, overrides: Partial<CycleRecord> = {}): CycleRecord {
        const startedAt = new Date(START.getTime() + minutesAfterStart * MINUTE);
        return {
          cycleId: id,
          status: 'success',
          startedAt,
          finishedAt: new Date(startedAt.getTime() + 42_500),
          durationSeconds: 42.5,
          totalRows: 3_000_000_000,
          tablesSucceeded: 2,
          tablesFailed: 0,
          tablesSkipped: 0,
          ...overrides,
        };
      }

      it('keeps every field, lists newest first, filtered by start time and limit', async () => {
        const partial = cycle('c2', 15, { status: 'partial', totalRows: 7, tablesSucceeded: 1, tablesFailed: 1, tablesSkipped: 1, durationSeconds: 0.25 });
        for (const c of [cycle('c1', 0), partial, cycle('c3', 30, { status: 'failed', totalRows: 0, tablesSucceeded: 0, tablesFailed: 2 })]) await store.recordCycle(c);
        expect(await store.recentCycles()).toHaveLength(3);
        expect((await store.recentCycles()).map((c) => c.cycleId)).toEqual(['c3', 'c2', 'c1']);
        expect((await store.recentCycles({ since: partial.startedAt })).map((c) => c.cycleId)).toEqual(['c3', 'c2']);
        expect((await store.recentCycles({ limit: 1 })).map((c) => c.cycleId)).toEqual(['c3']);
        expect((await store.recentCycles({ since: new Date(START.getTime() + 60 * MINUTE) }))).toEqual([]);
        const read = (await store.recentCycles()).find((c) => c.cycleId === 'c2');
        expect(read).toEqual(partial);
      });

      it('records a cycle id once', async () => {
        await store.recordCycle(cycle('same', 0));
        await store.recordCycle(cycle('same', 5, { status: 'failed' }));
        const cycles = await store.recentCycles();
        expect(cycles.map((c) => [c.cycleId, c.status])).toEqual([['same', 'success']]);
      });

      it('rejects a negative limit', async () => {
        await expect(store.recentCycles({ limit: -1 })).rejects.toThrow(/limit/);
      });
    });
  });
}
