import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { buildDependencyGraph, DependencyCycleError } from '../cycle/graph.js';
import { resolveDatabaseUrl } from './database-url.js';
import { configSchema, type OffloadConfig, type RestCatalogSecret, type RunnerConfig, type TableConfig } from './schema.js';

/** `['tables', 1, 'timestampColumn']` → `tables[1].timestampColumn`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

/** A received scalar for a message, as JSON and cut short; lists and objects are left to the message (they may be large). */
function shown(input: unknown): string | undefined {
  if (input === undefined || (typeof input === 'object' && input !== null)) return undefined;
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Each issue names its key and, unless its message already quotes it, the value received. */
function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    const value = shown(issue.input);
    const quoted = value !== undefined && issue.message.includes(value);
    return { path: formatPath(issue.path), message: value === undefined || quoted ? issue.message : `${issue.message} (got ${value})` };
  });
}

/**
 * Secrets never live in the file: a URL carrying a password is refused so it
 * is not committed by accident, and the password is read from the variable
 * the file names.
 */
function secretIssues(clickhouseUrl: string): ConfigIssue[] {
  if (clickhouseUrl === 'embedded') return [];
  try {
    const url = new URL(clickhouseUrl);
    if (url.password) {
      return [{ path: 'clickhouse.url', message: 'must not contain a password; set it in the variable named by clickhouse.passwordEnv' }];
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return [{ path: 'clickhouse.url', message: `expected an http(s) URL or "embedded", got ${JSON.stringify(clickhouseUrl)}` }];
    }
  } catch {
    return [{ path: 'clickhouse.url', message: `expected an http(s) URL or "embedded", got ${JSON.stringify(clickhouseUrl)}` }];
  }
  return [];
}

/** The REST catalog's secret from the variable named; a named variable that is unset or malformed is an error naming both. */
function restCatalogSecret(runner: RunnerConfig, env: NodeJS.ProcessEnv): { secret: RestCatalogSecret | undefined; issues: ConfigIssue[] } {
  if (runner.kind !== 'embedded' || typeof runner.catalog !== 'object') return { secret: undefined, issues: [] };
  const { credentialEnv, tokenEnv } = runner.catalog;
  if (tokenEnv !== undefined) {
    const token = env[tokenEnv];
    if (!token) return { secret: undefined, issues: [{ path: 'runner.catalog.tokenEnv', message: `variable ${tokenEnv} is not set` }] };
    return { secret: { kind: 'token', token }, issues: [] };
  }
  if (credentialEnv !== undefined) {
    const credential = env[credentialEnv] ?? '';
    const colon = credential.indexOf(':');
    if (colon <= 0 || colon === credential.length - 1) {
      // The value is a secret: say what is wrong with it, never what it is.
      const problem = credential === '' ? 'is not set' : 'must be "client_id:client_secret"';
      return { secret: undefined, issues: [{ path: 'runner.catalog.credentialEnv', message: `variable ${credentialEnv} ${problem}` }] };
    }
    return { secret: { kind: 'client-credentials', clientId: credential.slice(0, colon), clientSecret: credential.slice(colon + 1) }, issues: [] };
  }
  return { secret: undefined, issues: [] };
}

/** Validates plain data (parsed YAML/JSON) into a config, reading secrets from `env`. */
export function parseConfig(input: unknown, env: NodeJS.ProcessEnv = {}, source?: string): OffloadConfig {
  const parsed = configSchema.safeParse(input, { reportInput: true });
  const where = source === undefined ? {} : { source };
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error), { ...where, cause: parsed.error });
  const data = parsed.data;
  const secrets = secretIssues(data.clickhouse.url);
  const rest = restCatalogSecret(data.runner, env);
  if (rest.issues.length > 0) secrets.push(...rest.issues);
  if (secrets.length > 0) throw new ConfigError(secrets, where);
  const databaseUrl = resolveDatabaseUrl(env, data.watermarkStore.urlEnv);
  const tables: TableConfig[] = data.tables.map((table) => ({
    ...table,
    name: table.name ?? table.source.split('.')[1]!,
    partitionBy: table.partitionBy ?? [{ column: table.timestampColumn, transform: 'day' }],
  }));
  assertAcyclic(tables, where);
  return {
    ...data,
    tables,
    clickhouse: { ...data.clickhouse, password: env[data.clickhouse.passwordEnv] },
    databaseUrl,
    restCatalogSecret: rest.secret,
  };
}

/** A dependency cycle is a configuration error, found at load rather than when the first cycle is built. */
function assertAcyclic(tables: readonly TableConfig[], where: { source?: string }): void {
  try {
    buildDependencyGraph(tables);
  } catch (error) {
    if (!(error instanceof DependencyCycleError)) throw error;
    const index = tables.findIndex((t) => t.name === error.cycle[0]);
    throw new ConfigError([{ path: `tables[${index}].dependsOn`, message: error.message }], { ...where, cause: error });
  }
}

/** Reads a YAML (`.yaml`/`.yml`) or JSON file and validates it. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = {}): Promise<OffloadConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ path: '', message: `cannot read config file ${path}: ${(cause as Error).message}` }], { cause });
  }
  let data: unknown;
  try {
    data = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new ConfigError([{ path: '', message: `cannot parse ${path}: ${(cause as Error).message}` }], { source: path, cause });
  }
  return parseConfig(data, env, path);
}
