import { isAbsolute, relative } from 'node:path';
import { OffloadError } from '../../errors.js';
import { quoteClickHouse } from '../../identifiers/index.js';
import type { StorageOptions } from './for-location.js';
import { localPath } from './local.js';
import { isS3Location, parseS3Location, type S3StorageOptions } from './s3.js';

/**
 * How the ClickHouse server reaches an S3 store. The credentials live in a
 * named collection on that server (`CREATE NAMED COLLECTION` or its XML
 * config), so Coldtier names them and never sends a secret to ClickHouse:
 * nothing secret can reach `system.query_log` or an error.
 */
export interface ClickHouseS3Access {
  /** A named collection on the ClickHouse server holding `access_key_id` and `secret_access_key` (and any other `s3()` defaults). */
  readonly namedCollection: string;
  /** The store's endpoint as the ClickHouse server reaches it, when that differs from Coldtier's (another network, a proxy). */
  readonly endpoint?: string;
}

/**
 * Where values go into the SQL: `bind(type, value)` returns the text that
 * stands for the value. A query's {@link QueryParams} binds them as query
 * parameters; {@link INLINE_SQL_VALUES} quotes them, for text that cannot
 * carry parameters (a view's definition).
 */
export interface SqlValues {
  bind(type: 'String' | 'Identifier', value: string): string;
}

const quoteString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Values written into the SQL text: strings as escaped literals, identifiers back-quoted (and checked to be plain identifiers). */
export const INLINE_SQL_VALUES: SqlValues = {
  bind: (type, value) => (type === 'Identifier' ? quoteClickHouse(value) : quoteString(value)),
};

export interface ParquetFileOptions {
  /** ClickHouse column list (`a UInt64, b String`); inferred from the file when absent. */
  readonly structure?: string;
}

/**
 * The table function through which ClickHouse reads or writes one Parquet
 * file at `location`: `file(<path>, 'Parquet')` for a local path or
 * `file://` URI, `s3(<named collection>, url = <object URL>, format =
 * 'Parquet')` for `s3://`, `s3a://` or `s3n://`. Usable after `FROM` and
 * after `INSERT INTO FUNCTION`. Every ClickHouse-side access to a table's
 * files goes through here, so a new storage is one more case in this file.
 */
export function clickHouseParquetFile(location: string, storage: StorageOptions, values: SqlValues, options: ParquetFileOptions = {}): string {
  // Values are bound in the order they appear, so the SQL reads in parameter order.
  if (isS3Location(location)) {
    const { access, url } = s3Target(location, storage);
    const head = `s3(${values.bind('Identifier', access.namedCollection)}, url = ${values.bind('String', url)}, format = 'Parquet'`;
    return `${head}${options.structure === undefined ? '' : `, structure = ${values.bind('String', options.structure)}`})`;
  }
  const head = `file(${values.bind('String', localFilePath(location))}, 'Parquet'`;
  return `${head}${options.structure === undefined ? '' : `, ${values.bind('String', options.structure)}`})`;
}

export interface IcebergTableOptions {
  /** Pins the read to this metadata file (a snapshot), instead of the newest one ClickHouse finds. */
  readonly metadataLocation?: string;
  /**
   * Directory a local table path is written relative to: chdb confines
   * table functions to its working directory, a server to its
   * `user_files_path`. Absent: the absolute path.
   */
  readonly pathBase?: string;
}

/**
 * The table function through which ClickHouse reads an Iceberg table at
 * `location` (its root): `icebergS3(<named collection>, url = ...)` on S3,
 * `icebergLocal(<path>)` locally.
 */
export function clickHouseIcebergTable(location: string, storage: StorageOptions, values: SqlValues, options: IcebergTableOptions = {}): string {
  const root = location.replace(/\/+$/, '');
  const metadata = options.metadataLocation === undefined ? undefined : metadataPathWithin(root, options.metadataLocation);
  let head: string;
  if (isS3Location(root)) {
    const { access, url } = s3Target(`${root}/`, storage);
    head = `icebergS3(${values.bind('Identifier', access.namedCollection)}, url = ${values.bind('String', url)}`;
  } else {
    const path = localFilePath(root);
    const base = options.pathBase;
    head = `icebergLocal(${values.bind('String', base !== undefined && isAbsolute(path) ? relative(base, path) : path)}`;
  }
  return `${head}${metadata === undefined ? '' : `, SETTINGS iceberg_metadata_file_path = ${values.bind('String', metadata)}`})`;
}

/**
 * The HTTP(S) URL of an S3 object as the ClickHouse server reaches it:
 * `storage.s3.clickhouse.endpoint`, else Coldtier's `storage.s3.endpoint`,
 * else AWS's regional endpoint; path-style or virtual-host as
 * `storage.s3.pathStyle` says. ClickHouse takes a virtual-host URL only on
 * hosts named like AWS's (`<bucket>.s3.<region>...`); other stores need
 * path-style, as they do for most clients.
 */
export function clickHouseObjectUrl(location: string, s3: S3StorageOptions): string {
  const { bucket, key } = parseS3Location(location);
  const endpoint = new URL(s3.clickhouse?.endpoint ?? s3.endpoint ?? `https://s3.${s3.region}.amazonaws.com`);
  const base = endpoint.pathname.replace(/\/+$/, '');
  // ClickHouse decodes the URL's path into the key, so every byte that is not plainly safe is escaped, `%` included.
  const path = key.split('/').map(encodeKeySegment).join('/');
  if (s3.pathStyle) return `${endpoint.protocol}//${endpoint.host}${base}/${bucket}/${path}`;
  return `${endpoint.protocol}//${bucket}.${endpoint.host}${base}/${path}`;
}

/** Glob characters (`*`, `?`, `{`, `}`) would make ClickHouse match several keys, so they are escaped as well. */
function encodeKeySegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function s3Target(location: string, storage: StorageOptions): { access: ClickHouseS3Access; url: string } {
  const s3 = storage.s3;
  if (!s3) throw new OffloadError('config', `${location} is on S3 but no S3 storage is configured (storage.s3)`);
  const access = s3.clickhouse;
  if (!access) {
    throw new OffloadError('config', `ClickHouse cannot reach ${location}: set storage.s3.clickhouse.namedCollection to a named collection on the ClickHouse server that holds the store's credentials`);
  }
  return { access, url: clickHouseObjectUrl(location, s3) };
}

function localFilePath(location: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file:')) {
    throw new OffloadError('config', `ClickHouse cannot reach ${location}: expected a local path, file:// or s3:// location`);
  }
  return localPath(location);
}

/** The metadata file's path relative to the table root, as `iceberg_metadata_file_path` takes it. */
function metadataPathWithin(root: string, metadataLocation: string): string {
  const sameScheme = (l: string) => (isS3Location(l) ? l.replace(/^s3[an]?:/, 's3:') : localPath(l));
  const [r, m] = [sameScheme(root), sameScheme(metadataLocation)];
  if (!m.startsWith(`${r}/`)) throw new OffloadError('internal', `metadata file ${metadataLocation} is not under the table location ${root}`);
  return m.slice(r.length + 1);
}
