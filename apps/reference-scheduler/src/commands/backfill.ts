import { CycleOrchestrator, checkSourceColumns, dateFromMicros } from '@coldtier/offload-core';
import type { CycleReport, JobRunner, TableConfig, WatermarkStore } from '@coldtier/offload-core';
import { COMMON_HELP, COMMON_OPTIONS, findTable, parse, parseDuration, parseInstant, UsageError } from '../cli/args.js';
import { EXIT, openApp, type Command } from '../cli/io.js';
import type { App } from '../runtime/app.js';
import { isOwnerGone, leaseOwner } from '../runtime/lease-owner.js';
import { createRunner } from '../runtime/runner.js';
import { Progress } from '../runtime/progress.js';

const HELP = `Usage: coldtier backfill --table T --from DATE --to DATE [--chunk 1h] [options]

Offloads a large historical range of one table in bounded chunks: each chunk
is one run (its own Iceberg commit and watermark advance) whose window ends at
the next chunk boundary (FROM + k * CHUNK). Progress is the table's watermark,
so an interrupted backfill resumes where it stopped when run again. Rows after
the watermark and before FROM are not skipped: they go with the first chunk.
The range ends at TO, or at now minus the late-data buffer if that is earlier.

Options:
      --table T              configured table name
      --from DATE            start of the chunk grid (ISO-8601, e.g. 2026-01-01 or 2026-01-01T00:00:00Z)
      --to DATE              end of the range (ISO-8601)
      --chunk DURATION       chunk length: 30m, 1h (default), 1d ...
${COMMON_HELP}`;

export const backfill: Command = async (argv, io) => {
  const { values } = parse(argv, {
    ...COMMON_OPTIONS,
    table: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    chunk: { type: 'string' },
  });
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const from = parseInstant('from', values.from);
  const to = parseInstant('to', values.to);
  if (from >= to) throw new UsageError(`--from ${from.toISOString()} must be before --to ${to.toISOString()}`);
  const chunkMs = parseDuration('chunk', values.chunk ?? '1h');
  const app = await openApp(values, io, 'backfill');
  try {
    const table = findTable(app.config, values.table);
    const end = new Date(Math.min(to.getTime(), Date.now() - app.config.lateDataBufferMinutes * 60_000));
    if (end <= from) throw new UsageError(`nothing to backfill: the range ends within the late-data buffer (${app.config.lateDataBufferMinutes} min before now)`);
    const abort = new AbortController();
    const removeHandler = io.onStopSignal((signal) => abort.abort(new Error(`received ${signal}`)));
    try {
      return await backfillTable(app, table, { from, end, chunkMs, signal: abort.signal, progress: new Progress(io, table.name) }, io.env);
    } finally {
      removeHandler();
    }
  } finally {
    await app.close();
  }
};

interface Range {
  readonly from: Date;
  readonly end: Date;
  readonly chunkMs: number;
  readonly signal: AbortSignal;
  readonly progress: Progress;
}

async function backfillTable(app: App, table: TableConfig, range: Range, env: NodeJS.ProcessEnv): Promise<number> {
  const { config, logger } = app;
  const store = await app.store();
  const clickhouse = config.runner.kind === 'embedded' || config.runner.prepareTable ? await app.clickhouse() : undefined;
  if (clickhouse) await checkSourceColumns(clickhouse, config.tables);
  const runner = createRunner(config, { clickhouse, logger, env, pool: await app.pool() });
  await store.ensureTables([table.name]);
  const fromMs = range.from.getTime();
  const endMs = range.end.getTime();
  const chunks = Math.ceil((endMs - fromMs) / range.chunkMs);
  // Chunks that were empty leave the watermark where it was: the position is
  // the later of the watermark and the last chunk done.
  let position = dateFromMicros((await store.get(table.name))?.cursor.timestampMicros ?? 0n).getTime();
  if (position >= endMs) {
    range.progress.done(`already offloaded up to ${new Date(position).toISOString()}; nothing to do`);
    return EXIT.ok;
  }
  let rows = 0;
  for (;;) {
    const index = Math.max(1, Math.floor((position - fromMs) / range.chunkMs) + 1);
    if (index > chunks || position >= endMs) break;
    const chunkEnd = Math.min(fromMs + index * range.chunkMs, endMs);
    const report = await runChunk({ app, table, runner, store }, new Date(chunkEnd), range.signal);
    const outcome = report.tables[0]!;
    if (outcome.status !== 'success') {
      const why = outcome.status === 'failed' ? `${outcome.errorType}: ${outcome.message}` : `${outcome.reason}: ${outcome.detail}`;
      range.progress.fail(`chunk ${index}/${chunks} up to ${new Date(chunkEnd).toISOString()} ${outcome.status} (${why}); run the same command again to resume`);
      return EXIT.failed;
    }
    rows += outcome.rows;
    position = Math.max(chunkEnd, dateFromMicros(outcome.watermark.timestampMicros).getTime());
    range.progress.update(index, chunks, new Date(chunkEnd), rows);
  }
  range.progress.done(`offloaded ${rows} rows up to ${range.end.toISOString()}`);
  return EXIT.ok;
}

interface ChunkParts {
  readonly app: App;
  readonly table: TableConfig;
  readonly runner: JobRunner;
  readonly store: WatermarkStore;
}

/**
 * One chunk is one single-table cycle whose windows end at the chunk's end
 * (and never later than the late-data buffer allows), so its window is
 * (watermark, chunk end].
 */
function runChunk(parts: ChunkParts, chunkEnd: Date, signal: AbortSignal): Promise<CycleReport> {
  const { app, table, runner, store } = parts;
  const { config, logger } = app;
  return new CycleOrchestrator({
    tables: [{ ...table, dependsOn: [] }],
    store,
    runner,
    logger,
    concurrency: 1,
    retry: config.retry,
    lateDataBufferMinutes: config.lateDataBufferMinutes,
    cycleDeadlineMs: table.timeoutSeconds * 1000 + 5_000,
    leaseOwner: leaseOwner('backfill'),
    isOwnerGone,
    recordHistory: false,
  }).runCycle(signal, { windowEnd: chunkEnd });
}
