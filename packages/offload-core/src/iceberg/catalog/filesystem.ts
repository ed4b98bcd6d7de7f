import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../clock.js';
import { OffloadError, UnknownTableError } from '../../errors.js';
import { FileAlreadyExistsError, type FileIO } from '../io/file-io.js';
import { LocalFileIO, localPath } from '../io/local.js';
import type { TableMetadata } from '../spec/table-metadata.js';
import type { TableRequirement, TableUpdate } from '../spec/table-update.js';
import {
  CommitConflictError,
  TableAlreadyExistsError,
  formatIdentifier,
  type Catalog,
  type CommitOptions,
  type CreateTableRequest,
  type LoadedTable,
  type TableIdentifier,
} from './catalog.js';
import { encodeMetadataFile, METADATA_SUFFIXES, metadataCodec, metadataSuffix, readMetadataFile } from './metadata-file.js';
import { initialMetadata, nextMetadata } from './metadata-update.js';

export interface FilesystemCatalogOptions {
  /** Warehouse root: a local path, a file:// URI, or an object-store URI with a matching `io`. */
  readonly warehouse: string;
  /**
   * The warehouse's storage; default the local filesystem. Its `create`
   * must be atomic (S3 with `If-None-Match`): a store without conditional
   * writes has no atomic rename either, and two writers would both win.
   */
  readonly io?: FileIO;
  readonly clock?: Clock;
}

// Plain, gzip (`v3.gz.metadata.json`) and legacy gzip (`v3.metadata.json.gz`), as Iceberg names them.
const VERSION_FILE = /^v(\d+)(?:\.gz\.metadata\.json|\.metadata\.json(?:\.gz)?)$/;

/**
 * Iceberg's Hadoop catalog layout on a local filesystem (or an object store
 * with conditional writes), readable by Spark's
 * `type=hadoop` catalog: `<warehouse>/<ns...>/<table>/metadata/v<N>.metadata.json`
 * plus `version-hint.text`. A commit creates `v<N+1>` with an atomic
 * create-if-absent (hard link), so of two writers racing from `v<N>` one
 * wins and the other gets {@link CommitConflictError}. The hint is advisory:
 * loads probe past it for newer versions, as Iceberg's HadoopTableOperations does.
 * A version may be gzipped (`v<N>.gz.metadata.json`, `v<N>.metadata.json.gz`),
 * as Spark writes it under `write.metadata.compression-codec=gzip`; every name
 * counts when finding the newest version, and commits use the table's codec.
 */
export class FilesystemCatalog implements Catalog {
  readonly io: FileIO;
  readonly #warehouse: string;
  readonly #clock: Clock;
  /** Namespaces are directories only on a filesystem; on an object store they are key prefixes that need no creating. */
  readonly #directories: boolean;

  constructor(options: FilesystemCatalogOptions) {
    this.io = options.io ?? new LocalFileIO();
    this.#warehouse = options.warehouse.replace(/\/+$/, '');
    this.#directories = !/^[a-z][a-z0-9+.-]*:\/\//i.test(this.#warehouse) || this.#warehouse.startsWith('file:');
    this.#clock = options.clock ?? systemClock;
  }

  /** Where a table lives: `<warehouse>/<ns...>/<name>`. */
  tableLocation(id: TableIdentifier): string {
    return [this.#warehouse, ...id.namespace, id.name].join('/');
  }

  async listNamespaces(): Promise<string[][]> {
    if (!this.#directories) throw new OffloadError('config', `listing namespaces is not supported on ${this.#warehouse}`);
    const root = localPath(this.#warehouse);
    const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
    const out: string[][] = [];
    for (const e of entries) {
      if (e.isDirectory() && !(await isDirectory(join(root, e.name, 'metadata')))) out.push([e.name]);
    }
    return out;
  }

  async createNamespace(namespace: readonly string[]): Promise<void> {
    if (!this.#directories) return;
    await mkdir(localPath([this.#warehouse, ...namespace].join('/')), { recursive: true });
  }

  async tableExists(id: TableIdentifier): Promise<boolean> {
    return (await this.#currentVersion(id)) !== undefined;
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    const version = await this.#currentVersion(id);
    if (version === undefined) throw new UnknownTableError(formatIdentifier(id), `no Iceberg metadata under ${this.tableLocation(id)}`);
    return this.#read(id, version);
  }

  async createTable(id: TableIdentifier, request: CreateTableRequest): Promise<LoadedTable> {
    const location = this.tableLocation(id);
    if (request.location !== undefined && request.location.replace(/\/+$/, '') !== location) {
      throw new TableAlreadyExistsError(`${formatIdentifier(id)} (the Hadoop layout fixes the location at ${location})`);
    }
    const metadata = initialMetadata(location, request, this.#clock);
    try {
      return await this.#write(id, 1, metadata);
    } catch (error) {
      if (error instanceof FileAlreadyExistsError) throw new TableAlreadyExistsError(formatIdentifier(id));
      throw error;
    }
  }

  async commitTable(
    id: TableIdentifier,
    requirements: readonly TableRequirement[],
    updates: readonly TableUpdate[],
    options: CommitOptions = {},
  ): Promise<LoadedTable> {
    if (options.inTransaction) {
      throw new OffloadError('config', `commit to ${formatIdentifier(id)}: the filesystem catalog cannot run a database hook atomically`, {
        table: formatIdentifier(id),
      });
    }
    const version = await this.#currentVersion(id);
    if (version === undefined) throw new UnknownTableError(formatIdentifier(id));
    const current = await this.#read(id, version);
    const next = nextMetadata(current, requirements, updates, this.#clock);
    try {
      return await this.#write(id, version + 1, next);
    } catch (error) {
      if (error instanceof FileAlreadyExistsError) {
        throw new CommitConflictError(formatIdentifier(id), `version ${version + 1} was written by another writer`, { cause: error });
      }
      throw error;
    }
  }

  #metadataDir(id: TableIdentifier): string {
    return `${this.tableLocation(id)}/metadata`;
  }

  async #read(id: TableIdentifier, version: number): Promise<LoadedTable> {
    const metadataLocation = await this.#versionFile(id, version);
    if (metadataLocation === undefined) throw new UnknownTableError(formatIdentifier(id), `metadata version ${version} vanished`);
    return { identifier: id, metadata: await readMetadataFile(this.io, metadataLocation), metadataLocation };
  }

  async #write(id: TableIdentifier, version: number, metadata: TableMetadata): Promise<LoadedTable> {
    const table = formatIdentifier(id);
    const codec = metadataCodec(metadata.properties, table);
    const metadataLocation = `${this.#metadataDir(id)}/v${version}${metadataSuffix(codec)}`;
    // Another writer's version under another codec's name is the same version: create-if-absent
    // on our name alone would not see it. Checked before and after, so a racing writer that
    // used another name makes us back off (Iceberg probes the plain name first).
    if ((await this.#versionFile(id, version)) !== undefined) throw new FileAlreadyExistsError(metadataLocation);
    await this.io.create(metadataLocation, encodeMetadataFile(metadata, codec));
    if ((await this.#versionFiles(id, version)).length > 1) {
      await this.io.delete(metadataLocation);
      throw new FileAlreadyExistsError(metadataLocation);
    }
    // Best effort, like Hadoop: a stale hint only costs readers a few probes.
    await this.io.write(`${this.#metadataDir(id)}/version-hint.text`, Buffer.from(String(version), 'utf8')).catch(() => undefined);
    return { identifier: id, metadata, metadataLocation };
  }

  /** The files that claim version `version`, in Iceberg's probe order. */
  async #versionFiles(id: TableIdentifier, version: number): Promise<string[]> {
    const candidates = METADATA_SUFFIXES.map((suffix) => `${this.#metadataDir(id)}/v${version}${suffix}`);
    const present = await Promise.all(candidates.map((c) => this.io.exists(c)));
    return candidates.filter((_, i) => present[i]);
  }

  async #versionFile(id: TableIdentifier, version: number): Promise<string | undefined> {
    return (await this.#versionFiles(id, version))[0];
  }

  /** The newest version: from the hint (or a directory listing), then probing forward. */
  async #currentVersion(id: TableIdentifier): Promise<number | undefined> {
    const dir = this.#metadataDir(id);
    let version: number | undefined;
    try {
      const hint = Number(Buffer.from(await this.io.read(`${dir}/version-hint.text`)).toString('utf8').trim());
      if (Number.isInteger(hint) && hint > 0 && (await this.#versionFile(id, hint)) !== undefined) version = hint;
    } catch {
      // No hint: fall back to listing.
    }
    if (version === undefined) {
      const versions = (await this.io.list(dir))
        .map((p) => VERSION_FILE.exec(p.slice(p.lastIndexOf('/') + 1))?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number);
      if (versions.length === 0) return undefined;
      version = Math.max(...versions);
    }
    while ((await this.#versionFile(id, version + 1)) !== undefined) version++;
    return version;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}
