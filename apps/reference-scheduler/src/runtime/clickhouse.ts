import { mkdir } from 'node:fs/promises';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseClient, ClickHouseClientConfigOptions, Logger as ClientLogger, ErrorLogParams, LogParams, WarnLogParams } from '@clickhouse/client';
import { OffloadError } from '@coldtier/offload-core';
import type { Logger, OffloadConfig } from '@coldtier/offload-core';

/**
 * A ClickHouse client for the config: over HTTP for a server URL, or on an
 * in-process chdb engine for `embedded` (one data directory per process).
 * chdb is loaded only then: a production process never loads it.
 */
export async function openClickHouse(config: OffloadConfig, defaultPath: string, logger: Logger): Promise<ClickHouseClient> {
  const { url, username, password, path, requestTimeoutSeconds } = config.clickhouse;
  const log = { LoggerClass: clientLoggerClass(logger), level: ClickHouseLogLevel.WARN };
  if (url !== 'embedded') {
    return createClient({ url, username, ...(password === undefined ? {} : { password }), request_timeout: requestTimeoutSeconds * 1000, log });
  }
  const dataDir = path ?? defaultPath;
  await mkdir(dataDir, { recursive: true });
  const { createChdbConnection } = await importDemoPart(() => import('chdb/connection'), 'chdb', 'set clickhouse.url to your ClickHouse server');
  // chdb types its Connection against @clickhouse/client-common, which
  // @clickhouse/client bundles under its own declarations; same shape.
  const connection = createChdbConnection({ path: dataDir }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']>;
  return createClient({ connection, log });
}

/**
 * Loads a piece of the embedded setup. They are optional dependencies, left out
 * of a production install (`pnpm deploy --prod --no-optional`): asking for the
 * embedded setup there is a configuration error naming the package.
 */
export async function importDemoPart<T>(load: () => Promise<T>, pkg: string, instead: string): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    if ((cause as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw cause;
    throw new OffloadError('config', `the embedded setup needs the optional package ${pkg}, which is not installed (a production install leaves it out): install it, or ${instead}`, { cause });
  }
}

/**
 * Routes @clickhouse/client's own log lines through Coldtier's logger, so they
 * follow --log-format and carry no stack trace. The client logs every failed
 * request as an error; the runner classifies and reports that failure once,
 * so here it is detail for --verbose.
 */
export function clientLoggerClass(logger: Logger): new () => ClientLogger {
  const fields = ({ module, args }: LogParams, err?: Error) => ({ module, ...args, ...(err ? { error: err.message } : {}) });
  return class implements ClientLogger {
    trace(): void {}
    debug(params: LogParams): void {
      logger.debug(`ClickHouse client: ${params.message}`, fields(params));
    }
    info(params: LogParams): void {
      logger.debug(`ClickHouse client: ${params.message}`, fields(params));
    }
    warn(params: WarnLogParams): void {
      logger.warn(`ClickHouse client: ${params.message}`, fields(params, params.err));
    }
    error(params: ErrorLogParams): void {
      logger.debug(`ClickHouse client: ${params.message}`, fields(params, params.err));
    }
  };
}
