// The board process's diagnostics. No state.

import fs from 'node:fs';
import { workerData } from 'node:worker_threads';

// Where several boards share a process (host.mjs), each worker's lines name its board.
const name = (workerData && workerData.logName) || 'sim/board';

// log writes one line to stderr, which the Go side passes on to its log.
export function log(message) {
  fs.writeSync(2, `${name}: ${message}\n`);
}
