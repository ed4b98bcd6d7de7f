#!/usr/bin/env node
import process from 'node:process';
import { runCli } from './cli/main.js';

// Node prints warnings (deprecations, the AWS SDK's notice about Node versions) to stderr as free
// text; once a command has its logger they become log lines, so `--log-format json` stays JSON.
let onWarning = (warning: Error): void => {
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
};
process.removeAllListeners('warning');
process.on('warning', (warning) => onWarning(warning));

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  errIsTty: process.stderr.isTTY === true,
  onProcessWarning: (handler) => {
    onWarning = handler;
  },
  onStopSignal: (handler) => {
    const listener = (signal: NodeJS.Signals) => handler(signal);
    process.on('SIGTERM', listener);
    process.on('SIGINT', listener);
    return () => {
      process.off('SIGTERM', listener);
      process.off('SIGINT', listener);
    };
  },
});
// chdb and pg may keep handles open after their close; everything this
// process started has been stopped by now, so leave with the command's code.
process.stdout.write('', () => process.exit(code));
