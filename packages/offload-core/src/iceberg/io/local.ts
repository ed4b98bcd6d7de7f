import { randomUUID } from 'node:crypto';
import { access, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileAlreadyExistsError, type FileInfo, type FileIO, type StagedFile, type StagedObject } from './file-io.js';

/** A local path from a plain path or a `file:` URI (`file:/a`, `file:///a`). */
export function localPath(location: string): string {
  if (!location.startsWith('file:')) return location;
  // Hadoop writes `file:/a/b`; the WHATWG parser accepts it, so normalise through it.
  return fileURLToPath(new URL(location));
}

/** The `file://` URI of an absolute local path. */
export function fileUri(path: string): string {
  return pathToFileURL(path).href;
}

/**
 * FileIO over the local filesystem. Writes go to a temporary sibling and are
 * renamed (replace) or hard-linked (create) into place, so a reader never
 * sees a half-written file and `create` is atomic even across processes:
 * link(2) fails with EEXIST when the target exists.
 */
export class LocalFileIO implements FileIO {
  async read(location: string): Promise<Uint8Array> {
    return readFile(localPath(location));
  }

  async write(location: string, data: Uint8Array): Promise<void> {
    const path = localPath(location);
    const tmp = await this.#stage(path, data);
    await rename(tmp, path);
  }

  async create(location: string, data: Uint8Array): Promise<void> {
    const path = localPath(location);
    const tmp = await this.#stage(path, data);
    try {
      await link(tmp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new FileAlreadyExistsError(location, { cause: error });
      throw error;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async exists(location: string): Promise<boolean> {
    try {
      await access(localPath(location));
      return true;
    } catch {
      return false;
    }
  }

  async delete(location: string): Promise<void> {
    await rm(localPath(location), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const dir = localPath(prefix);
    try {
      const names = await readdir(dir);
      return names.map((n) => (prefix.startsWith('file:') ? `${prefix.replace(/\/+$/, '')}/${n}` : join(dir, n)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async listRecursive(prefix: string): Promise<FileInfo[]> {
    const dir = localPath(prefix);
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const out: FileInfo[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      // A file deleted since the listing is simply gone.
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const location = prefix.startsWith('file:') ? fileUri(path) : path;
      out.push({ location, sizeBytes: info.size, modifiedAt: info.mtime });
    }
    return out.sort((a, b) => (a.location < b.location ? -1 : 1));
  }

  /** Staged beside the target, so publishing is one rename on the same filesystem. */
  async stage(location: string): Promise<StagedFile> {
    const path = localPath(location);
    await mkdir(dirname(path), { recursive: true });
    const staging = join(dirname(path), `.${randomUUID()}.partial`);
    return {
      path: staging,
      publish: async () => {
        await syncFile(staging);
        await rename(staging, path);
      },
      discard: () => rm(staging, { force: true }),
    };
  }

  /** Staged beside the target, its tail replaced in place, published with one rename. */
  async stageObject(location: string): Promise<StagedObject> {
    const path = localPath(location);
    await mkdir(dirname(path), { recursive: true });
    const staging = join(dirname(path), `.${randomUUID()}.partial`);
    return {
      location: staging,
      readTail: async (length) => {
        const handle = await open(staging, 'r');
        try {
          const { size } = await handle.stat();
          const bytes = new Uint8Array(Math.min(length, size));
          await handle.read(bytes, 0, bytes.length, size - bytes.length);
          return { bytes, size };
        } finally {
          await handle.close();
        }
      },
      publishWithTail: async (keepBytes, tail) => {
        const handle = await open(staging, 'r+');
        try {
          await handle.truncate(keepBytes);
          await handle.write(tail, 0, tail.length, keepBytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(staging, path);
      },
      discard: () => rm(staging, { force: true }),
    };
  }

  async #stage(path: string, data: Uint8Array): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${randomUUID()}.tmp`);
    await writeFile(tmp, data);
    return tmp;
  }
}

/**
 * Flushes a staged file to disk before it is published: a commit may
 * reference it right after, and must not outlive its bytes in a crash. In
 * the publish, not in the writes before it, so the flush of one data file
 * overlaps the writing of the next (see `ClickHouseParquetSource`).
 */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
