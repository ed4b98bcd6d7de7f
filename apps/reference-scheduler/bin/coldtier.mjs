#!/usr/bin/env node
// The `coldtier` bin. It exists before the build (dist/ does not on a fresh
// clone), so pnpm links it at install time; the CLI itself is compiled.
import process from 'node:process';

try {
  await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/cli.js')) throw error;
  process.stderr.write('coldtier: not built yet; run `pnpm build` (or `pnpm start`) at the repository root first\n');
  process.exit(1);
}
