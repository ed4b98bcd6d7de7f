import { request } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsServerError, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, prefersOpenMetrics, startMetricsServer } from '../src/index.js';
import type { MetricsServer } from '../src/index.js';

function registryWithCounter(): Registry {
  const registry = new Registry();
  new Counter({ name: 'probe_total', help: 'a "probe"', registers: [registry] }).inc(3);
  return registry;
}

const servers: MetricsServer[] = [];
async function start(options: Omit<Parameters<typeof startMetricsServer>[0], 'port' | 'host'>): Promise<MetricsServer> {
  const server = await startMetricsServer({ ...options, port: 0, host: '127.0.0.1' });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('the metrics server', () => {
  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const server = await start({ registry: registryWithCounter() });
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics/extra`)).status).toBe(404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('serves mounted application routes, and a failing one answers 500', async () => {
    const server = await start({
      registry: registryWithCounter(),
      routes: {
        '/healthz': () => ({ status: 200, body: 'ok\n' }),
        '/status': async () => ({ status: 503, body: { cycle: 'running', tables: 2 } }),
        '/broken': () => {
          throw new Error('boom');
        },
      },
    });
    const health = await fetch(`${server.url}/healthz?verbose=1`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const status = await fetch(`${server.url}/status`);
    expect(status.status).toBe(503);
    expect(status.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await status.json()).toEqual({ cycle: 'running', tables: 2 });
    const broken = await fetch(`${server.url}/broken`);
    expect([broken.status, await broken.text()]).toEqual([500, 'boom\n']);
  });

  it('negotiates the exposition format from Accept', async () => {
    const server = await start({ registry: registryWithCounter() });
    const plain = await fetch(`${server.url}/metrics`);
    expect(plain.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(await plain.text()).toBe('# HELP probe_total a "probe"\n# TYPE probe_total counter\nprobe_total 3\n');
    const open = await fetch(`${server.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(open.headers.get('content-type')).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(await open.text()).toBe('# TYPE probe counter\n# HELP probe a \\"probe\\"\nprobe_total 3\n# EOF\n');
  });

  it('prefers OpenMetrics only when Accept ranks it above the text format', () => {
    expect(prefersOpenMetrics(undefined)).toBe(false);
    expect(prefersOpenMetrics('*/*')).toBe(false);
    expect(prefersOpenMetrics('text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5')).toBe(false);
    expect(prefersOpenMetrics('application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3')).toBe(true);
    expect(prefersOpenMetrics('application/openmetrics-text;q=0')).toBe(false);
  });

  it('closes cleanly with a keep-alive connection open, and twice', async () => {
    const server = await startMetricsServer({ registry: registryWithCounter(), port: 0, host: '127.0.0.1' });
    const response = await fetch(`${server.url}/metrics`, { headers: { connection: 'keep-alive' } });
    await response.text();
    await server.close();
    await server.close();
    const refused = await new Promise<NodeJS.ErrnoException>((resolve) => {
      request(`${server.url}/metrics`).on('error', resolve).end();
    });
    expect(refused.code).toBe('ECONNREFUSED');
  });

  it('reports a port already in use as a MetricsServerError', async () => {
    const first = await start({ registry: registryWithCounter() });
    const second = startMetricsServer({ registry: registryWithCounter(), port: first.port, host: '127.0.0.1' });
    await expect(second).rejects.toBeInstanceOf(MetricsServerError);
    await expect(second).rejects.toThrow(/EADDRINUSE/);
  });
});
