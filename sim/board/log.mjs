// The board process's diagnostics. No state.

import fs from 'node:fs';

// log writes one line to stderr, which the Go side passes on to its log.
export function log(message) {
  fs.writeSync(2, `sim/board: ${message}\n`);
}
