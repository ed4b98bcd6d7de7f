import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestCatalog, startS3Server } from '../src/index.js';
import type { RestCatalogServer, S3Server } from '../src/index.js';

let s3: S3Server;
let rest: RestCatalogServer;

beforeAll(async () => {
  s3 = await startS3Server();
  rest = await startRestCatalog({ s3 });
  console.log(`Iceberg REST catalog server: JVM start to first request ${rest.startMs} ms`);
}, 180_000);

afterAll(async () => {
  await rest?.stop();
  await s3?.stop();
});

describe('object store test servers', () => {
  it('serves the Iceberg REST catalog on loopback, its table metadata on the S3 server', async () => {
    expect(rest.uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const config = await fetch(`${rest.uri}/v1/config`, { signal: AbortSignal.timeout(10_000) });
    expect(config.status).toBe(200);
    const post = (path: string, body: unknown) =>
      fetch(`${rest.uri}/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    expect((await post('namespaces', { namespace: ['probe'] })).status).toBe(200);
    const created = await post('namespaces/probe/tables', {
      name: 't',
      schema: { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: true, type: 'long' }] },
    });
    expect(created.status).toBe(200);
    const { 'metadata-location': location } = (await created.json()) as { 'metadata-location': string };
    expect(location).toMatch(/^s3:\/\/warehouse\/warehouse\/probe\/t\/metadata\/.*\.metadata\.json$/);
    // The metadata file is on the S3 server: moto's own inventory lists it.
    const inventory = await (await fetch(`${s3.endpoint}/moto-api/data.json`)).text();
    expect(inventory).toContain(location.slice('s3://warehouse/'.length));
  });

  it('stops both servers', async () => {
    await rest.stop();
    await expect(fetch(`${rest.uri}/v1/config`)).rejects.toThrow();
  });
});
