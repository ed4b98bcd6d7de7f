import { createServer } from 'node:net';
import { UsageError } from '../cli/args.js';

/**
 * Fails at once when `start` could not listen on its port, instead of after
 * the embedded ClickHouse and PostgreSQL have been opened (tens of seconds).
 * The port is free again when this returns; losing it in the moment before
 * the metrics server binds still fails, only later.
 */
export async function assertPortFree(port: number, host: string | undefined): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  }).catch((error: NodeJS.ErrnoException) => {
    const where = `${host ?? '*'}:${port}`;
    switch (error.code) {
      case 'EADDRINUSE':
        throw new UsageError(`--port ${port}: ${where} is already in use (another coldtier start?); choose another --port, or --port 0 for a free one`, { cause: error });
      case 'EACCES':
        throw new UsageError(`--port ${port}: not allowed to listen on ${where} (ports below 1024 need privileges); choose another --port`, { cause: error });
      case 'EADDRNOTAVAIL':
        throw new UsageError(`--host ${host ?? ''}: not an address of this machine; cannot listen on ${where}`, { cause: error });
      default:
        throw error;
    }
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
