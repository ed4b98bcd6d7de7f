import { describe, expect, it } from 'vitest';
import { MaintenanceProgressDisplay } from '../src/runtime/maintenance-progress.js';
import { Progress } from '../src/runtime/progress.js';
import type { CliIo } from '../src/cli/io.js';

function stderr(errIsTty: boolean): { io: CliIo; text: () => string } {
  let text = '';
  const io: CliIo = { out: () => {}, err: (t) => void (text += t), env: {}, errIsTty, onStopSignal: () => () => {} };
  return { io, text: () => text };
}

describe('progress on stderr', () => {
  it('redraws the backfill bar in place on a terminal and ends it before the last line', () => {
    const err = stderr(true);
    const progress = new Progress(err.io, 'trades');
    progress.update(1, 2, new Date('2020-01-01T01:00:00Z'), 3);
    progress.update(2, 2, new Date('2020-01-01T02:00:00Z'), 6);
    progress.done('6 rows');
    const bar = (n: string) => `\r[${n}]`;
    expect(err.text()).toBe(
      `${bar('#'.repeat(15) + ' '.repeat(15))}  50% trades up to 2020-01-01T01:00:00.000Z (3 rows)` +
        `${bar('#'.repeat(30))} 100% trades up to 2020-01-01T02:00:00.000Z (6 rows)\nBackfill trades: 6 rows\n`,
    );
  });

  it('writes whole lines, without carriage returns, when stderr is not a terminal', () => {
    const err = stderr(false);
    const display = new MaintenanceProgressDisplay(err.io, 'trades');
    display.update({ kind: 'start', action: 'compact' });
    display.update({ kind: 'step', action: 'compact', done: 1, total: 2 });
    expect(err.text()).toBe('Maintain trades: compact...\nMaintain trades: compact 1/2 file groups rewritten\n');
  });

  it('counts compaction steps in place on a terminal, then starts the next line on a fresh one', () => {
    const err = stderr(true);
    const display = new MaintenanceProgressDisplay(err.io, 'trades');
    display.update({ kind: 'step', action: 'compact', done: 1, total: 2 });
    display.update({ kind: 'step', action: 'compact', done: 2, total: 2 });
    display.update({ kind: 'start', action: 'expire_snapshots' });
    expect(err.text()).toBe('\rMaintain trades: compact 1/2 file groups rewritten\rMaintain trades: compact 2/2 file groups rewritten\nMaintain trades: expire_snapshots...\n');
  });
});
