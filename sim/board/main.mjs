// Simulated MicroPython ESP32 board: the process the Go side (package sim) supervises.
//
// This main thread owns the framed stdin/stdout protocol of docs/design.md; the board itself
// (its worker thread, stdin ring and outbox) is a BoardThread (boardthread.mjs), so that
// console input, Ctrl-C and quit keep working while Python code executes. host.mjs runs
// many boards in one process instead.
//
//   node main.mjs --fs DIR --queue N [--firmware X.Y.Z] [--direct-read] [--vm-hook] [--raw] [--no-raw-paste] [--wifi-ssid S --wifi-key K --wifi-ip A] [--webrepl-off]
//
// --firmware is the MicroPython release the board reports; --direct-read models an ESP32
// from v1.28, whose REPL reads the socket itself while it waits for input (Go sends that
// input as `I`, never dropped); --vm-hook models an ESP8266, whose VM hook lets a Ctrl-C
// interrupt a loop that never calls out (docs/protocol/simulator.md §4).
//
// Frames both ways: 1 byte type, 4 bytes big-endian payload length, payload.

import { once } from 'node:events';
import { boardUsage, parseBoardArgs, resolveMicroPython, UsageError } from './args.mjs';
import { BoardThread } from './boardthread.mjs';

function usage(message) {
  process.stderr.write(`sim/board: ${message}\nusage: ${boardUsage}\n`);
  process.exit(2);
}

let opts;
try {
  opts = parseBoardArgs(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) usage(err.message);
  throw err;
}
let micropythonURL;
try {
  micropythonURL = resolveMicroPython();
} catch (err) {
  process.stderr.write(`sim/board: ${err.message}\n`);
  process.exit(1);
}

const board = new BoardThread({
  opts,
  micropythonURL,
  sink: {
    write: (buf) => process.stdout.write(buf),
    drained: () => once(process.stdout, 'drain'),
  },
  onEnd: (code, detail) => {
    process.stderr.write(`sim/board: ${detail}\n`);
    process.exit(code === 0 ? 0 : 1);
  },
});

let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= 5) {
    const len = pending.readUInt32BE(1);
    if (pending.length < 5 + len) break;
    const type = String.fromCharCode(pending[0]);
    const payload = pending.subarray(5, 5 + len);
    pending = pending.subarray(5 + len);
    if (type === 'i' || type === 'I') {
      board.input(payload, type === 'I');
    } else if (type === 'q') {
      process.exit(0);
    } else {
      process.stderr.write(`sim/board: ignoring unknown message type ${JSON.stringify(type)} (${len} bytes)\n`);
    }
  }
});
// The Go side going away means nobody can use this board any more.
process.stdin.on('end', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
