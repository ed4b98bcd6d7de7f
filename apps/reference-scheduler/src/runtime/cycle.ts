import { ConfigError, CycleOrchestrator, OffloadEvents, checkSourceColumns, logOffloadEvents, messageOf } from '@coldtier/offload-core';
import type { PostgresWatermarkStore } from '@coldtier/offload-core';
import type { App } from './app.js';
import { SEED_MINUTES, seedRecentTrades } from '../embedded/seed.js';
import { isOwnerGone, leaseOwner } from './lease-owner.js';
import { createRunner } from './runner.js';

/** What running cycles needs, built once per process from the app's config. */
export interface CycleParts {
  readonly orchestrator: CycleOrchestrator;
  readonly events: OffloadEvents;
  readonly store: PostgresWatermarkStore;
}

/**
 * Opens the store and source, resets `running` rows a crashed process left
 * behind, and builds the orchestrator with the operator's log lines
 * subscribed to its events.
 */
export async function openCycles(app: App, env: NodeJS.ProcessEnv): Promise<CycleParts> {
  const { config, logger } = app;
  const store = await app.store();
  // Whichever runner reads the rows, the column settings are checked against
  // ClickHouse once, before the first cycle (the Spark job would otherwise
  // offload nothing, or fail every cycle, on a wrong type). A server that is
  // down at start-up is the cycles' to report (classified, counted, alerted
  // on); only a wrong column setting stops the process here.
  // (A Spark runner with the in-process engine is refused by createRunner: nothing to open for it.)
  const sparkInProcess = config.runner.kind === 'spark' && config.clickhouse.url === 'embedded';
  const clickhouse = sparkInProcess ? undefined : await app.clickhouse();
  if (clickhouse) {
    await checkSourceColumns(clickhouse, config.tables).catch((error: unknown) => {
      if (error instanceof ConfigError) throw error;
      logger.warn('could not check the source columns; the cycles will retry ClickHouse', { error: messageOf(error) });
    });
  }
  if (app.embeddedDefault && clickhouse) {
    const seeded = await seedRecentTrades(clickhouse, config.tables, new Date());
    if (seeded > 0) logger.info(`Embedded demo: seeded ${seeded} trades over the last ${SEED_MINUTES} minutes, so the first cycle offloads rows`);
  }
  const recovered = await store.recoverStaleRuns(config.watermarkStore.staleRunningMinutes * 60_000);
  if (recovered.length > 0) logger.warn('reset stale running tables to failed', { tables: recovered });

  const events = new OffloadEvents((error, event) => logger.error('event listener failed', { event: event.type, error: messageOf(error) }));
  logOffloadEvents(events, logger, config.tables);
  const orchestrator = new CycleOrchestrator({
    tables: config.tables,
    store,
    runner: createRunner(config, { clickhouse, logger, env, pool: await app.pool() }),
    logger,
    events,
    concurrency: config.concurrency,
    retry: config.retry,
    lateDataBufferMinutes: config.lateDataBufferMinutes,
    scheduleMinutes: config.scheduleMinutes,
    leaseOwner: leaseOwner(),
    isOwnerGone,
  });
  return { orchestrator, events, store };
}
