import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { bronzeTableDdl, loadConfigFile, messageOf, migrate, OffloadError, PostgresWatermarkStore, quoteClickHouse } from '@coldtier/offload-core';
import type { Logger, OffloadConfig } from '@coldtier/offload-core';
import { importDemoPart, openClickHouse } from './clickhouse.js';
import { EMBEDDED_DATABASE, embeddedConfig, stateLayout, type StateLayout } from './embedded-config.js';
import { openPool, type AppPool } from './pg.js';
import { assertSchemaCurrent } from './schema-check.js';
import { lockStateDir } from './state-lock.js';

/** How a command chose its setup. */
export interface SetupFlags {
  readonly config: string | undefined;
  readonly stateDir: string | undefined;
  /** Shorter schedule for trying things out; see `embeddedConfig`. */
  readonly intervalSeconds?: number | undefined;
  readonly command: string;
}

export const DEFAULT_STATE_DIR = '.coldtier';

/**
 * The parts a command uses, opened on first use and closed together:
 * a config file's setup (ClickHouse server, PostgreSQL from the environment),
 * or the embedded one under the state directory (chdb, PGlite, a local
 * warehouse), which is locked to this process while open.
 */
export class App {
  readonly config: OffloadConfig;
  readonly logger: Logger;
  /** The embedded state directory, or `null` when running from a config file. */
  readonly layout: StateLayout | null;
  /** True for the no-config single-machine setup. */
  readonly embeddedDefault: boolean;
  readonly #command: string;
  readonly #closers: (() => Promise<void>)[] = [];
  #locked: Promise<void> | undefined;
  #pool: Promise<AppPool> | undefined;
  #clickhouse: Promise<ClickHouseClient> | undefined;

  private constructor(config: OffloadConfig, logger: Logger, layout: StateLayout | null, command: string, embeddedDefault: boolean) {
    this.config = config;
    this.logger = logger;
    this.layout = layout;
    this.embeddedDefault = embeddedDefault;
    this.#command = command;
  }

  static async load(flags: SetupFlags, logger: Logger, env: NodeJS.ProcessEnv): Promise<App> {
    if (flags.config !== undefined) {
      const config = await loadConfigFile(flags.config, env);
      const scheduled = flags.intervalSeconds === undefined ? config : { ...config, scheduleMinutes: flags.intervalSeconds / 60 };
      const layout = config.clickhouse.url === 'embedded' ? stateLayout(resolve(flags.stateDir ?? DEFAULT_STATE_DIR)) : null;
      return new App(scheduled, logger, layout, flags.command, false);
    }
    const layout = stateLayout(resolve(flags.stateDir ?? DEFAULT_STATE_DIR));
    return new App(embeddedConfig(layout, flags.intervalSeconds), logger, layout, flags.command, true);
  }

  /** The watermark store's pool: PostgreSQL from `watermarkStore.urlEnv`, else PGlite under the state directory. */
  pool(): Promise<AppPool> {
    this.#pool ??= this.#openPool();
    return this.#pool;
  }

  /** The embedded PGlite is migrated on open; a real PostgreSQL must have been migrated with `coldtier migrate`. */
  async store(): Promise<PostgresWatermarkStore> {
    const pool = await this.pool();
    if (this.config.databaseUrl === undefined) await migrate(pool);
    else await assertSchemaCurrent(pool);
    return new PostgresWatermarkStore({ pool });
  }

  /** The source ClickHouse; the embedded one gets the reference's bronze tables. */
  clickhouse(): Promise<ClickHouseClient> {
    this.#clickhouse ??= this.#openClickHouse();
    return this.#clickhouse;
  }

  /** Closes what was opened, last first; a failing close is logged, the rest still close. */
  async close(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) {
      await close().catch((error: unknown) => this.logger.warn('shutdown step failed', { error: messageOf(error) }));
    }
  }

  async #lock(): Promise<void> {
    const layout = this.layout;
    if (!layout) return;
    this.#locked ??= lockStateDir(layout.root, this.#command).then((lock) => {
      this.#closers.push(() => lock.release());
    });
    await this.#locked;
  }

  async #openPool(): Promise<AppPool> {
    const onError = (error: Error) => this.logger.warn('PostgreSQL connection error', { error: error.message });
    const url = this.config.databaseUrl;
    if (url !== undefined) {
      // One connection per concurrently offloaded table, plus the scrape and the lease keepers.
      const pool = openPool(url, this.config.concurrency + 2, onError);
      this.#closers.push(() => pool.end());
      return pool;
    }
    const layout = this.layout;
    if (!layout) {
      const name = this.config.watermarkStore.urlEnv;
      throw new OffloadError('config', `no watermark store: set ${name} (watermarkStore.urlEnv) to the PostgreSQL URL`);
    }
    await this.#lock();
    const { startEmbeddedPostgres } = await importDemoPart(() => import('../embedded/pglite.js'), '@electric-sql/pglite', `set ${this.config.watermarkStore.urlEnv} to your PostgreSQL URL`);
    const pg = await startEmbeddedPostgres(layout.postgres);
    this.#closers.push(() => pg.stop());
    // PGlite runs every session on one backend: transactions on two
    // connections would interleave, so the store gets exactly one.
    const pool = openPool(pg.url, 1, onError);
    this.#closers.push(() => pool.end());
    return pool;
  }

  async #openClickHouse(): Promise<ClickHouseClient> {
    if (this.layout && this.config.clickhouse.url === 'embedded') await this.#lock();
    const client = await openClickHouse(this.config, this.layout?.clickhouse ?? resolve(DEFAULT_STATE_DIR, 'clickhouse'), this.logger);
    this.#closers.push(() => client.close());
    if (this.embeddedDefault) {
      await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteClickHouse(EMBEDDED_DATABASE)}` });
      for (const table of this.config.tables) {
        const [database, name] = table.source.split('.') as [string, string];
        await client.command({ query: bronzeTableDdl(database, name) });
      }
    }
    return client;
  }
}
