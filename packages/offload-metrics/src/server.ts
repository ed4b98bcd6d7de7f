import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OffloadError, messageOf, silentLogger } from '@coldtier/offload-core';
import type { Logger } from '@coldtier/offload-core';
import type { Registry } from 'prom-client';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, renderOpenMetrics } from './openmetrics.js';

/** What an extra route answers; an object body is sent as JSON. */
export interface RouteResponse {
  readonly status: number;
  readonly body: string | object;
  readonly contentType?: string;
}

/** An application route mounted beside `/metrics`, e.g. `/healthz` or `/status`. */
export type RouteHandler = () => RouteResponse | Promise<RouteResponse>;

export interface MetricsServerOptions {
  readonly registry: Registry;
  /** 0 picks a free port (tests); the reference used 8000. */
  readonly port: number;
  /** Interface to listen on; every interface by default. */
  readonly host?: string;
  /** Extra GET routes by exact path. `/metrics` cannot be overridden. */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
  readonly logger?: Logger;
}

export interface MetricsServer {
  /** Base URL, e.g. `http://127.0.0.1:8000`; scrape `${url}/metrics`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections, drops idle keep-alive sockets and resolves once closed. Idempotent. */
  close(): Promise<void>;
}

/** The exporter could not start (port taken, address unavailable). */
export class MetricsServerError extends OffloadError {
  constructor(message: string, cause: unknown) {
    super('internal', message, { cause });
  }
}

/** Highest `q` the `Accept` header gives a media type (0 when absent). */
function quality(accept: string, mediaType: string): number {
  let best = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== mediaType) continue;
    const q = params.find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    if (Number.isFinite(value)) best = Math.max(best, value);
  }
  return best;
}

/** OpenMetrics only when asked for above the Prometheus text format, which stays the default. */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  return quality(accept, 'application/openmetrics-text') > quality(accept, 'text/plain');
}

async function renderMetrics(registry: Registry, accept: string | undefined): Promise<RouteResponse> {
  return prefersOpenMetrics(accept)
    ? { status: 200, body: await renderOpenMetrics(registry), contentType: OPENMETRICS_CONTENT_TYPE }
    : { status: 200, body: await registry.metrics(), contentType: PROMETHEUS_CONTENT_TYPE };
}

function send(response: ServerResponse, answer: RouteResponse, extraHeaders: Record<string, string> = {}): void {
  const json = typeof answer.body !== 'string';
  const body = json ? `${JSON.stringify(answer.body)}\n` : answer.body;
  response.writeHead(answer.status, {
    'Content-Type': answer.contentType ?? (json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8'),
    'Content-Length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  response.end(body);
}

function handler(options: MetricsServerOptions, logger: Logger) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, { status: 405, body: 'method not allowed\n' }, { Allow: 'GET, HEAD' });
      return;
    }
    const route = path === '/metrics' ? () => renderMetrics(options.registry, request.headers.accept) : options.routes?.[path];
    if (!route) {
      send(response, { status: 404, body: 'not found\n' });
      return;
    }
    try {
      send(response, await route());
    } catch (error) {
      logger.error('metrics server: request failed', { path, error: messageOf(error) });
      send(response, { status: 500, body: `${messageOf(error)}\n` });
    }
  };
}

function baseUrl(host: string | undefined, port: number): string {
  const shown = host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Serves `registry` at `/metrics` over node:http: the Prometheus text format
 * by default, OpenMetrics when the `Accept` header prefers it. Other paths
 * answer 404 unless mounted through `routes`.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const logger = options.logger ?? silentLogger;
  const serve = handler(options, logger);
  const server = createServer((request, response) => void serve(request, response));
  try {
    await listen(server, options.port, options.host);
  } catch (error) {
    throw new MetricsServerError(`metrics server cannot listen on ${options.host ?? '*'}:${options.port}: ${messageOf(error)}`, error);
  }
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: baseUrl(options.host, port),
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
