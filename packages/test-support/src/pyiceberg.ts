import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The PyIceberg environment `scripts/python-env.sh` installs: the tests' independent Iceberg reader. */
const PYTHON = fileURLToPath(new URL('../../../.venv-interop/bin/python', import.meta.url));

export interface PyIcebergRunOptions {
  /** Added to this process's environment (an S3 server's keys, say). */
  readonly env?: Readonly<Record<string, string>>;
  /** Default 120 s: a reader scanning a day of commits on a loaded machine. */
  readonly timeoutMs?: number;
}

/**
 * Runs a Python script with PyIceberg and returns what it printed; fails
 * saying how to install PyIceberg when it is missing.
 */
export async function runPyIceberg(script: string, args: readonly string[], options: PyIcebergRunOptions = {}): Promise<string> {
  await access(PYTHON).catch(() => {
    throw new Error(`PyIceberg is not installed: ${PYTHON} is missing. Run \`bash scripts/python-env.sh\` at the repository root.`);
  });
  const { stdout } = await promisify(execFile)(PYTHON, [script, ...args], {
    env: { ...process.env, ...options.env },
    maxBuffer: 16 * 1024 * 1024,
    timeout: options.timeoutMs ?? 120_000,
  });
  return stdout;
}
