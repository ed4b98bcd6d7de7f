import { randomUUID } from 'node:crypto';
import { OffloadError } from '../../../errors.js';
import type { FileIO } from '../../io/file-io.js';
import type { JsonValue } from '../../spec/json.js';
import type { TableRequirement, TableUpdate } from '../../spec/table-update.js';
import { formatIdentifier, type Catalog, type CommitOptions, type CreateTableRequest, type LoadedTable, type TableIdentifier } from '../catalog.js';
import { noAuth, type RestAuth } from './auth.js';
import { RestCatalogError } from './errors.js';
import { RestTransport } from './http.js';
import { loadedTableFromJson, namespacePath, requirementToJson, updatesToJson } from './messages.js';

export interface RestCatalogOptions {
  /** The catalog's base URI, without `/v1`. */
  readonly uri: string;
  /** The warehouse to ask `/v1/config` for (catalogs that serve several). */
  readonly warehouse?: string;
  /** Data files, manifests and metadata go through it (built from `storage.s3`, not from the catalog's config). */
  readonly io: FileIO;
  readonly auth?: RestAuth;
  /** Per request. Default 30 s. */
  readonly timeoutMs?: number;
  /** Retries of requests that may be repeated (see {@link RestTransport}). Default 3. */
  readonly retries?: number;
  /** Injected for tests. */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What `/v1/config` said: the path prefix and whether mutations may carry an `Idempotency-Key`. */
interface CatalogConfig {
  readonly prefix: string;
  readonly idempotency: boolean;
}

/**
 * An Iceberg REST catalog client (the REST OpenAPI spec): `/v1/config`
 * (prefix, defaults and overrides), namespaces, load/create table and
 * commits of requirements + updates, which the server checks and applies
 * atomically. A hand-written client: iceberg-js, the npm one, parses with
 * JSON.parse (rounding 64-bit snapshot ids), has no timeouts and treats
 * every error alike; see {@link RestTransport} for the error mapping.
 */
export class RestCatalog implements Catalog {
  readonly io: FileIO;
  readonly #transport: RestTransport;
  readonly #warehouse: string | undefined;
  #config: Promise<CatalogConfig> | undefined;

  constructor(options: RestCatalogOptions) {
    this.io = options.io;
    this.#warehouse = options.warehouse;
    this.#transport = new RestTransport({
      uri: options.uri,
      auth: options.auth ?? noAuth,
      timeoutMs: options.timeoutMs ?? 30_000,
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
  }

  async listNamespaces(): Promise<string[][]> {
    const out: string[][] = [];
    let token: string | undefined;
    do {
      const query = token ? `?pageToken=${encodeURIComponent(token)}` : '';
      const body = asObject(await this.#send({ route: 'namespace', method: 'GET', path: `namespaces${query}` }));
      for (const ns of asArray(body['namespaces'])) out.push(asArray(ns).map(String));
      const next = body['next-page-token'];
      token = typeof next === 'string' && next !== '' ? next : undefined;
    } while (token);
    return out;
  }

  async createNamespace(namespace: readonly string[], properties: Readonly<Record<string, string>> = {}): Promise<void> {
    try {
      await this.#send({ route: 'create-namespace', method: 'POST', path: 'namespaces', body: { namespace, properties } });
    } catch (error) {
      // Already there: creating a namespace is idempotent for callers, as on the other catalogs.
      if (error instanceof RestCatalogError && error.status === 409) return;
      throw error;
    }
  }

  async tableExists(id: TableIdentifier): Promise<boolean> {
    try {
      await this.#send({ route: 'load-table', method: 'HEAD', path: tablePath(id), table: formatIdentifier(id) });
      return true;
    } catch (error) {
      if (error instanceof OffloadError && error.kind === 'unknown_table') return false;
      throw error;
    }
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    const body = await this.#send({ route: 'load-table', method: 'GET', path: tablePath(id), table: formatIdentifier(id) });
    return loadedTableFromJson(id, body, `load ${formatIdentifier(id)}`);
  }

  async createTable(id: TableIdentifier, request: CreateTableRequest): Promise<LoadedTable> {
    const body = await this.#send({
      route: 'create-table',
      method: 'POST',
      path: `namespaces/${namespacePath(id.namespace)}/tables`,
      table: formatIdentifier(id),
      body: {
        name: id.name,
        ...(request.location ? { location: request.location } : {}),
        schema: request.schema,
        'partition-spec': request.spec,
        'stage-create': false,
        properties: { 'format-version': '2', ...request.properties },
      },
      mutation: true,
    });
    return loadedTableFromJson(id, body, `create ${formatIdentifier(id)}`);
  }

  async commitTable(
    id: TableIdentifier,
    requirements: readonly TableRequirement[],
    updates: readonly TableUpdate[],
    options: CommitOptions = {},
  ): Promise<LoadedTable> {
    const name = formatIdentifier(id);
    if (options.inTransaction) {
      throw new OffloadError('config', `commit to ${name}: a REST catalog cannot run a database hook atomically`, { table: name });
    }
    const body = await this.#send({
      route: 'commit',
      method: 'POST',
      path: tablePath(id),
      table: name,
      body: {
        identifier: { namespace: id.namespace, name: id.name },
        requirements: requirements.map(requirementToJson),
        updates: updatesToJson(updates),
      },
      mutation: true,
    });
    return loadedTableFromJson(id, body, `commit to ${name}`);
  }

  /** Sends under `/v1/{prefix}/`; a mutation carries an `Idempotency-Key` (same on every re-send) when the catalog supports them. */
  async #send(request: { route: Parameters<RestTransport['send']>[0]['route']; method: 'GET' | 'HEAD' | 'POST'; path: string; body?: unknown; table?: string; mutation?: boolean }): Promise<JsonValue | undefined> {
    const config = await this.#loadConfig();
    const { mutation, path, ...rest } = request;
    return this.#transport.send({
      ...rest,
      path: `/v1/${config.prefix ? `${encodeURIComponent(config.prefix)}/` : ''}${path}`,
      ...(mutation && config.idempotency ? { idempotencyKey: randomUUID() } : {}),
    });
  }

  #loadConfig(): Promise<CatalogConfig> {
    this.#config ??= this.#fetchConfig().catch((error: unknown) => {
      this.#config = undefined;
      throw error;
    });
    return this.#config;
  }

  async #fetchConfig(): Promise<CatalogConfig> {
    const query = this.#warehouse ? `?warehouse=${encodeURIComponent(this.#warehouse)}` : '';
    const body = asObject(await this.#transport.send({ route: 'config', method: 'GET', path: `/v1/config${query}` }));
    // Overrides win over the client's settings, defaults lose to them (the spec's precedence).
    const merged = { ...asObject(body['defaults'] ?? {}), ...asObject(body['overrides'] ?? {}) };
    const prefix = typeof merged['prefix'] === 'string' ? merged['prefix'] : '';
    return { prefix, idempotency: body['idempotency-key-lifetime'] !== undefined };
  }
}

function tablePath(id: TableIdentifier): string {
  return `namespaces/${namespacePath(id.namespace)}/tables/${encodeURIComponent(id.name)}`;
}

function asObject(v: JsonValue | undefined): { [key: string]: JsonValue } {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v;
  throw new RestCatalogError(`the REST catalog answered ${JSON.stringify(String(v))} where an object was expected`, { retryable: false });
}

function asArray(v: JsonValue | undefined): JsonValue[] {
  if (Array.isArray(v)) return v;
  throw new RestCatalogError(`the REST catalog answered ${JSON.stringify(String(v))} where an array was expected`, { retryable: false });
}
