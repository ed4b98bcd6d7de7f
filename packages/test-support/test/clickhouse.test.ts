import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedClickHouse } from '../src/index.js';

describe('embedded ClickHouse', () => {
  it('answers parameterised queries through @clickhouse/client', async () => {
    const ch = await startEmbeddedClickHouse();
    afterAll(() => ch.close());
    const rs = await ch.client.query({
      query: 'SELECT sum(number) AS s, version() AS v FROM numbers({n:UInt32})',
      query_params: { n: 10 },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ s: string; v: string }>();
    expect(Number(rows[0]!.s)).toBe(45);
    expect(Number(rows[0]!.v.split('.')[0])).toBeGreaterThanOrEqual(25);
  });
});
