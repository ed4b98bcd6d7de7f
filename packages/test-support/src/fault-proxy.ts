import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the proxy saw. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** An answer the proxy gives instead of, or after, the upstream's. */
export interface ProxyReply {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * What to do with one request. `before`: answer (or drop the connection)
 * without forwarding. `after`: forward, let the upstream apply it, then
 * answer this instead of its answer, drop the connection, or rewrite its body.
 */
export interface Fault {
  readonly before?: ProxyReply | 'drop';
  readonly after?: ProxyReply | 'drop' | ((body: string) => string);
  /** Forward (and apply `after` to the body), then never answer: the client waits until it gives up or dies. */
  readonly hold?: boolean;
}

export interface FaultProxy {
  readonly uri: string;
  /** Every request seen, in order. */
  readonly requests: readonly ProxiedRequest[];
  /** Decides the fault for each request; return undefined to pass it through. Replaces the previous rule. */
  setRule(rule: ((request: ProxiedRequest) => Fault | undefined) | undefined): void;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy on a random loopback port in front of `target`, injecting
 * faults at the points a client cannot tell apart: before the upstream saw a
 * request, or after it applied it and before its answer arrived.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  let rule: ((request: ProxiedRequest) => Fault | undefined) | undefined;
  const server = createServer((req, res) => {
    void (async () => {
      const request: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: await readBody(req) };
      requests.push(request);
      const fault = rule?.(request);
      if (fault?.before === 'drop') return req.socket.destroy();
      if (fault?.before) return reply(fault.before);
      const upstream = await fetch(`${target}${request.path}`, {
        method: request.method,
        headers: forwardable(req.headers),
        ...(request.body === '' ? {} : { body: request.body }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await upstream.text();
      if (fault?.after === 'drop') return req.socket.destroy();
      if (typeof fault?.after === 'object') return reply(fault.after);
      const body = typeof fault?.after === 'function' ? fault.after(text) : text;
      if (fault?.hold) return;
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(body);
    })().catch((error: unknown) => {
      res.writeHead(599);
      res.end(String(error));
    });
    function reply(r: ProxyReply): void {
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(r.body ?? '');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}`,
    requests,
    setRule(next) {
      rule = next;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function forwardable(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || ['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
