#!/usr/bin/env node
// Runs a command against a fresh copy of the real Worker:
//
//   node scripts/with-worker.mjs -- COMMAND [ARGS...]
//
// starts `wrangler dev` the way the browser test does (tests/browser/worker.mjs: free loopback
// ports, a fresh --persist-to directory holding the schema, its own process group), runs COMMAND
// with WORKER_URL=http://127.0.0.1:PORT in its environment and `{WORKER_URL}` in its arguments
// replaced by that URL, then stops the Worker's whole process group, whether COMMAND passed,
// failed or was interrupted. Exits with COMMAND's status.
// The Worker's scratch directory (wrangler.log, state/) is kept when COMMAND fails.

import { spawn } from 'node:child_process';
import os from 'node:os';

import { startWorker } from '../tests/browser/worker.mjs';

const sep = process.argv.indexOf('--');
const argv = sep === -1 ? process.argv.slice(2) : process.argv.slice(sep + 1);
if (argv.length === 0) {
  process.stderr.write('usage: node scripts/with-worker.mjs -- COMMAND [ARGS...]\n');
  process.exit(2);
}

// Installed before the Worker starts: a signal must never end this process (and so skip
// stopping the Worker) but is passed on to COMMAND.
let child = null;
let interrupted = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = signal;
    if (child) child.kill(signal);
  });
}

const worker = await startWorker();
process.stderr.write(`with-worker: Worker at ${worker.base} (${worker.stateHow})\n`);

let status;
if (interrupted) {
  status = 130;
} else {
  status = await new Promise((resolve) => {
    const args = argv.slice(1).map((a) => a.replaceAll('{WORKER_URL}', worker.base));
    child = spawn(argv[0], args, {
      stdio: 'inherit',
      env: { ...process.env, WORKER_URL: worker.base },
    });
    child.once('error', (e) => {
      process.stderr.write(`with-worker: could not run ${argv[0]}: ${e.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (os.constants.signals[signal] ?? 0)));
  });
}
if (interrupted && status === 0) status = 130;
await worker.stop({ failed: status !== 0 });
process.exit(status);
