import type { ClickHouseClient } from '@clickhouse/client';
import type { CycleReport, Logger, OffloadConfig, WatermarkStore } from '@coldtier/offload-core';
import { createOffloadMetrics, recordOffloadEvents, startMetricsServer } from '@coldtier/offload-metrics';
import type { MetricsServer, RouteResponse } from '@coldtier/offload-metrics';
import type { TradeGenerator } from '../embedded/generator.js';
import { CycleScheduler } from '../scheduler/index.js';
import type { App } from './app.js';
import { openCycles } from './cycle.js';
import { summarizeCycle, tableStatuses } from './table-status.js';
import { appVersion } from './version.js';

export interface DaemonOptions {
  readonly port: number;
  readonly host: string | undefined;
  /** How long running tables may finish after a stop signal before they are aborted. */
  readonly graceMs: number;
  /** Cycles kept for `/status`. */
  readonly historySize: number;
  readonly env: NodeJS.ProcessEnv;
  /** Calls `handler` on SIGTERM/SIGINT; returns the remover. */
  readonly onStopSignal: (handler: (signal: string) => void) => () => void;
}

/**
 * Ticks count as recent within an interval plus this slack: enough for a
 * timer that fires late on a loaded host, short enough to notice a dead loop.
 */
const minHealthSlackMs = 30_000;

/**
 * The 15-minute scheduler as a long-running process: cycles on aligned ticks,
 * `/metrics`, `/healthz` and `/status` on one port, and a graceful stop on
 * SIGTERM/SIGINT (a second signal aborts at once). Resolves with the exit
 * code once everything it started has stopped.
 */
export async function runDaemon(app: App, options: DaemonOptions): Promise<number> {
  const { config, logger } = app;
  const intervalMs = config.scheduleMinutes * 60_000;
  const { orchestrator, events, store } = await openCycles(app, options.env);
  const metrics = createOffloadMetrics({ tables: config.tables, version: appVersion(), scheduleMinutes: config.scheduleMinutes, lagSource: store, logger });
  recordOffloadEvents(metrics, events);
  const clickhouse = app.embeddedDefault ? await app.clickhouse() : undefined;
  const history: CycleReport[] = [];
  const scheduler = new CycleScheduler({
    intervalMs,
    logger,
    runCycle: (signal, _deadline, drain) => orchestrator.runCycle(signal, { drain }),
    onSkippedTick: () => metrics.skippedTicksTotal.inc(),
    onCycle: ({ report }) => {
      if (!report) return;
      history.push(report);
      if (history.length > options.historySize) history.shift();
    },
  });

  let stopping = false;
  const slackMs = Math.max(minHealthSlackMs, intervalMs / 10);
  const healthz = (): RouteResponse => {
    const { lastTickAt, nextTickAt } = scheduler.state;
    const ageMs = lastTickAt === null ? Infinity : Date.now() - lastTickAt.getTime();
    const ok = !stopping && ageMs <= intervalMs + slackMs;
    const body = { status: stopping ? 'stopping' : ok ? 'ok' : 'stalled', lastTickAt, nextTickAt };
    return { status: ok ? 200 : 503, body };
  };
  const status = async (): Promise<RouteResponse> => ({
    status: 200,
    body: await statusBody(config, store, scheduler, history),
  });

  const server: MetricsServer = await startMetricsServer({
    registry: metrics.registry,
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    logger,
    routes: { '/healthz': healthz, '/status': status },
  });
  logger.info(`Metrics server started on ${server.url} (/metrics, /healthz, /status)`, { port: server.port });

  const generator = app.embeddedDefault && clickhouse ? await embeddedGenerator(app, clickhouse, logger) : null;
  try {
    await generator?.start();
    const stopped = new Promise<void>((resolve) => {
      let stop: Promise<void> | undefined;
      const remove = options.onStopSignal((signal) => {
        if (stop === undefined) {
          stopping = true;
          logger.info(`Received ${signal}: no new cycles; running tables get ${options.graceMs / 1000}s to finish, tables not started are skipped`);
          stop = scheduler.stop(options.graceMs);
          void stop.then(() => {
            remove();
            resolve();
          });
        } else {
          logger.warn(`Received ${signal} again: aborting running tables now`);
          void scheduler.stop(0);
        }
      });
    });
    logger.info('Offload scheduler started', { intervalSeconds: intervalMs / 1000, tables: config.tables.map((t) => t.name) });
    scheduler.start();
    await stopped;
  } finally {
    await generator?.stop();
    await server.close();
  }
  logger.info('Offload scheduler stopped');
  return 0;
}

async function statusBody(config: OffloadConfig, store: WatermarkStore, scheduler: CycleScheduler, history: readonly CycleReport[]) {
  const state = scheduler.state;
  return {
    version: appVersion(),
    intervalSeconds: config.scheduleMinutes * 60,
    scheduler: { ...state },
    tables: tableStatuses(config.tables, await store.list(), new Date(), history.at(-1)),
    cycles: history.map(summarizeCycle).reverse(),
  };
}

/**
 * A batch at least twice per late-data buffer: a row stamped before
 * `now - buffer` is then always inserted before the window that covers it
 * is read.
 */
async function embeddedGenerator(app: App, clickhouse: ClickHouseClient, logger: Logger): Promise<TradeGenerator> {
  // The demo's piece: a production process never loads it.
  const { TradeGenerator } = await import('../embedded/generator.js');
  const bufferMs = app.config.lateDataBufferMinutes * 60_000;
  const periodMs = Math.max(250, Math.min(5_000, bufferMs / 2));
  return new TradeGenerator({ client: clickhouse, tables: app.config.tables, periodMs, tradesPerBatch: Math.max(5, Math.round(periodMs / 50)), logger });
}
