import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, type TempDir } from '@coldtier/test-support';
import { sendCommand, startControlServer } from '../src/runtime/control.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await createTempDir('coldtier-control-');
});
afterAll(() => dir?.remove());

const echo = async ({ argv, errIsTty }: { argv: readonly string[]; errIsTty: boolean }) => ({ code: argv.length, out: argv.join(' '), err: String(errIsTty) });

describe('the control socket of a running start', () => {
  it('carries a command and its output both ways, beside the lock, and leaves no socket behind', async () => {
    const server = await startControlServer(dir.path, echo);
    try {
      expect(server.path).toBe(join(dir.path, 'coldtier.sock'));
      expect(await sendCommand(server.path, { argv: ['status', '--json'], errIsTty: true }, 5_000)).toEqual({ code: 2, out: 'status --json', err: 'true' });
    } finally {
      await server.close();
    }
    expect(existsSync(join(dir.path, 'coldtier.sock'))).toBe(false);
  });

  it('moves to a private temp directory when the state directory\'s path is too long for a socket, and cleans it up', async () => {
    const deep = join(dir.path, 'x'.repeat(60), 'y'.repeat(60));
    const server = await startControlServer(deep, echo);
    const path = server.path;
    expect(path.startsWith(deep)).toBe(false);
    expect(await sendCommand(path, { argv: ['diagnose'], errIsTty: false }, 5_000)).toMatchObject({ code: 1, out: 'diagnose' });
    await server.close();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a malformed request with the expected shape, and a caller fails cleanly when no daemon answers', async () => {
    const server = await startControlServer(dir.path, echo);
    try {
      const answer = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
        const req = request({ socketPath: server.path, path: '/command', method: 'POST' }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ argv: 'status' }));
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('expected {\\"argv\\": string[], \\"errIsTty\\": boolean}');
    } finally {
      await server.close();
    }
    await expect(sendCommand(join(dir.path, 'gone.sock'), { argv: ['status'], errIsTty: false }, 5_000)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
  });
});
