import type { ClickHouseClient } from '@clickhouse/client';
import { OffloadError, SparkJobRunner } from '@coldtier/offload-core';
import type { JobRunner, Logger, OffloadConfig, SparkRunnerConfig } from '@coldtier/offload-core';

/** What the runners are built from besides the config. */
export interface RunnerDeps {
  /** The source; the embedded runner reads through it (the Spark job connects itself). */
  readonly clickhouse: ClickHouseClient | undefined;
  readonly logger: Logger;
  /** This process's environment; the Spark job gets a few basics plus `passEnv`. */
  readonly env: NodeJS.ProcessEnv;
}

/** Variables every job needs to find its tools, whatever `passEnv` says. */
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TZ', 'JAVA_HOME', 'SPARK_HOME', 'PYSPARK_PYTHON', 'DOCKER_HOST'];

/** The job runner the config names. */
export function createRunner(config: OffloadConfig, deps: RunnerDeps): JobRunner {
  const runner = config.runner;
  switch (runner.kind) {
    case 'spark':
      return sparkRunner(config, runner, deps);
    case 'embedded':
      throw new OffloadError(
        'config',
        'embedded runner not available: this build of @coldtier/offload-core has no EmbeddedIcebergRunner; use runner.kind "spark" in a config file',
      );
  }
}

function sparkRunner(config: OffloadConfig, runner: SparkRunnerConfig, deps: RunnerDeps): SparkJobRunner {
  const env: Record<string, string> = {};
  for (const name of [...BASE_ENV, ...runner.passEnv]) {
    const value = deps.env[name];
    if (value !== undefined) env[name] = value;
  }
  const { url, username, password } = config.clickhouse;
  return new SparkJobRunner({
    command: runner.command,
    killGraceMs: runner.killGraceSeconds * 1000,
    env,
    // The job reads over JDBC; with an embedded (in-process) source it is
    // expected to find its own way, e.g. a `--conf` in the command.
    clickhouse: url === 'embedded' ? undefined : { jdbcUrl: `jdbc:clickhouse:${url}`, user: username, password },
    logger: deps.logger,
  });
}
