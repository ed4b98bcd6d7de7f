import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLICKHOUSE_SERVER_ENTRY, startClickHouseServer, type ClickHouseTestServer } from '../src/index.js';

let server: ClickHouseTestServer;
let client: ClickHouseClient;

beforeAll(async () => {
  server = await startClickHouseServer({ username: 'offloader', password: 's3cret' });
  client = server.client();
  await client.command({ query: 'CREATE DATABASE hot' });
  await client.command({ query: 'CREATE TABLE hot.trades (seq UInt64, sym String) ENGINE = MergeTree ORDER BY seq' });
});
afterAll(() => server?.stop());

const auth = () => ({ Authorization: `Basic ${Buffer.from(`${server.username}:${server.password}`).toString('base64')}` });
const get = (query: string, params: Record<string, string> = {}, headers: Record<string, string> = auth()) =>
  fetch(`${server.url}/?${new URLSearchParams({ query, ...params })}`, { headers });

/** Rejects with what a query of `numbers(rows)` fails with, reading the whole result. */
async function readAll(c: ClickHouseClient, rows: number): Promise<number> {
  const rs = await c.query({ query: `SELECT number, repeat('x', 100) AS pad FROM numbers(${rows})`, format: 'JSONCompactEachRow' });
  let n = 0;
  for await (const batch of rs.stream()) n += batch.length;
  return n;
}

describe('ClickHouse HTTP test server', () => {
  it('answers /ping and /?query=SELECT 1 as ClickHouse does', async () => {
    expect(await client.ping()).toEqual({ success: true });
    const ping = await fetch(`${server.url}/ping`);
    expect([ping.status, await ping.text()]).toEqual([200, 'Ok.\n']);
    const res = await get('SELECT 1');
    expect([res.status, await res.text()]).toEqual([200, '1\n']);
    expect(res.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    expect(res.headers.get('x-clickhouse-query-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('binds param_* values and takes settings from URL parameters', async () => {
    const rs = await client.query({
      query: "SELECT {s:String} AS s, {xs:Array(String)} AS xs, {n:Nullable(UInt8)} AS n, getSetting('max_threads') AS t",
      query_params: { s: "tab\there 'quoted' back\\slash", xs: ['a', "b'c"], n: null },
      clickhouse_settings: { max_threads: 3 },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ s: "tab\there 'quoted' back\\slash", xs: ['a', "b'c"], n: null, t: 3 }]);
    // Settings apply to their own request only.
    const after = await client.query({ query: "SELECT getSetting('max_threads') = 3 AS same", format: 'JSONEachRow' });
    expect(await after.json()).toEqual([{ same: 0 }]);
    await expect(client.query({ query: 'SELECT 1', clickhouse_settings: { no_such_setting: 1 } as never })).rejects.toMatchObject({ code: '115', type: 'UNKNOWN_SETTING' });
  });

  it('inserts and reads back through `database`, with the summary of a finished query', async () => {
    await client.insert({ table: 'hot.trades', values: [{ seq: 1, sym: 'AAPL' }, { seq: 2, sym: 'MSFT' }], format: 'JSONEachRow' });
    const scoped = server.client({ database: 'hot' });
    const rs = await scoped.query({ query: 'SELECT seq, sym FROM trades ORDER BY seq', format: 'JSONCompactEachRow' });
    expect(await rs.json()).toEqual([[1, 'AAPL'], [2, 'MSFT']]);
    const { summary } = await scoped.command({ query: 'SELECT sum(seq) FROM trades', clickhouse_settings: { wait_end_of_query: 1 } });
    expect(summary).toMatchObject({ result_rows: '1', result_bytes: expect.stringMatching(/^[1-9]/), elapsed_ns: expect.stringMatching(/^[1-9]/) });
  });

  it('takes the query from the body or the query parameter, with default_format and FORMAT clauses, compressing on request', async () => {
    const body = await fetch(`${server.url}/?default_format=JSONCompactEachRow`, { method: 'POST', body: 'SELECT 1, 2', headers: auth() });
    expect(await body.text()).toBe('[1, 2]\n');
    const both = await fetch(`${server.url}/?${new URLSearchParams({ query: 'SELECT', default_format: 'CSV' })}`, { method: 'POST', body: "'a', 3", headers: auth() });
    expect(await both.text()).toBe('"a",3\n');
    const clause = await get('SELECT 7 AS x FORMAT JSONEachRow', { default_format: 'CSV' });
    expect([clause.headers.get('x-clickhouse-format'), await clause.text()]).toEqual(['JSONEachRow', '{"x":7}\n']);
    const parquet = await client.exec({ query: 'SELECT number FROM numbers(70000) FORMAT Parquet' });
    const file = Buffer.concat(await parquet.stream.toArray());
    expect([file.subarray(0, 4).toString(), file.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);
    const whole = await get('SELECT number FROM numbers(70000) FORMAT JSON');
    expect(((await whole.json()) as { rows: number }).rows).toBe(70000);
    expect((await (await get('SELECT 1', { compress: '0' })).text())).toBe('1\n');
    const gzipped = server.client({ compression: { response: true } });
    const rs = await gzipped.query({ query: 'SELECT count() AS n FROM numbers(100000)', format: 'JSONEachRow' });
    expect([rs.response_headers['content-encoding'], await rs.json()]).toEqual(['gzip', [{ n: 100000 }]]);
    const compressed = await get('SELECT 1', { compress: '1' });
    expect([compressed.status, compressed.headers.get('x-clickhouse-exception-code')]).toEqual([501, '48']);
  });

  it('authenticates by X-ClickHouse-User/Key, basic auth and user/password, refusing wrong credentials with code 516', async () => {
    const headers = { 'X-ClickHouse-User': server.username, 'X-ClickHouse-Key': server.password };
    expect(await (await get('SELECT 1', {}, headers)).text()).toBe('1\n');
    expect(await (await get('SELECT 1', { user: server.username, password: server.password }, {})).text()).toBe('1\n');
    const wrong = await get('SELECT 1', {}, { 'X-ClickHouse-User': server.username, 'X-ClickHouse-Key': 'nope' });
    expect([wrong.status, wrong.headers.get('x-clickhouse-exception-code')]).toEqual([403, '516']);
    expect(await wrong.text()).toMatch(/^Code: 516\. DB::Exception: offloader: Authentication failed: password is incorrect, or there is no user with such name\. \(AUTHENTICATION_FAILED\)/);
    const intruder = server.client({ password: 'guess' });
    await expect(intruder.query({ query: 'SELECT 1' })).rejects.toMatchObject({ code: '516', type: 'AUTHENTICATION_FAILED' });
    expect(await intruder.ping()).toEqual({ success: true }); // /ping needs no credentials, as in ClickHouse
  });

  it('answers an exception with its code and ClickHouse text; GET is read-only', async () => {
    const error = await client.query({ query: 'SELEC 1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClickHouseError);
    expect(error).toMatchObject({ code: '62', type: 'SYNTAX_ERROR' });
    const missing = await get('SELECT * FROM hot.nope');
    expect([missing.status, missing.headers.get('x-clickhouse-exception-code')]).toEqual([404, '60']);
    expect(await missing.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\) \(version \d+\./);
    const write = await get('CREATE TABLE hot.x (a UInt8) ENGINE = Memory');
    expect([write.status, write.headers.get('x-clickhouse-exception-code')]).toEqual([403, '164']);
  });

  it('streams a large result in chunks and reports an exception raised mid-stream', async () => {
    const res = await get('SELECT number FROM numbers(3000000)');
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of res.body!) {
      chunks++;
      bytes += (chunk as Uint8Array).byteLength;
    }
    expect(chunks).toBeGreaterThan(1);
    let expected = 0;
    for (let n = 0; n < 3_000_000; n++) expected += String(n).length + 1;
    expect(bytes).toBe(expected);
    const rs = await client.query({ query: 'SELECT throwIf(number = 200000) AS x FROM numbers(300000)', format: 'JSONEachRow' });
    await expect(rs.json()).rejects.toMatchObject({ code: '395', type: 'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO' });
  });

  it('refuses connections on demand, and serves again after', async () => {
    await server.injectFault('refuse');
    await expect(client.query({ query: 'SELECT 1' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.injectFault(null);
    expect(await (await client.query({ query: 'SELECT 2 AS x', format: 'JSONEachRow' })).json()).toEqual([{ x: 2 }]);
  });

  it('stalls without answering until the client times out', async () => {
    await server.injectFault('stall');
    const impatient = server.client({ request_timeout: 500 });
    await expect(impatient.query({ query: 'SELECT 1' })).rejects.toThrow(/Timeout error/);
    await server.injectFault(null);
    expect(await (await impatient.query({ query: 'SELECT 3 AS x', format: 'JSONEachRow' })).json()).toEqual([{ x: 3 }]);
  });

  it('drops the connection mid-stream on demand', async () => {
    await server.injectFault('drop-mid-stream');
    await expect(readAll(client, 500_000)).rejects.toThrow(/aborted|socket hang up|ECONNRESET|premature close/i);
    await server.injectFault(null);
    expect(await readAll(client, 500_000)).toBe(500_000);
  });

  it('answers 500 on demand', async () => {
    await server.injectFault('error-500');
    const res = await get('SELECT 1');
    expect([res.status, res.headers.get('x-clickhouse-exception-code')]).toEqual([500, '241']);
    await expect(client.query({ query: 'SELECT 1' })).rejects.toMatchObject({ code: '241', type: 'MEMORY_LIMIT_EXCEEDED' });
    await server.injectFault(null);
    expect((await get('SELECT 1')).status).toBe(200);
  });
});

describe('the server as a standalone process', () => {
  it('prints its URL, serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLICKHOUSE_SERVER_ENTRY, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const [line] = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
    const { url } = JSON.parse(line!) as { url: string };
    expect(await (await fetch(`${url}/?query=SELECT%2040%2B2`)).text()).toBe('42\n');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a bad --port with exit code 2 and one line naming it', async () => {
    const child = spawn(process.execPath, [CLICKHOUSE_SERVER_ENTRY, '--port', 'eighty'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(2);
    expect(stderr).toBe('clickhouse-server: --port must be an integer from 0 to 65535, got "eighty"\n');
  });
});
