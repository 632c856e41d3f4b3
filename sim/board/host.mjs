// Many simulated boards in one process: each a BoardThread (boardthread.mjs) with a worker
// thread of its own, so each board is still a separate MicroPython with its own flash,
// stdin ring, loss model and resets, while the process's runtime is shared. The Go side
// (sim.Host, docs/protocol/simulator.md §7) starts one of these for any number of boards.
//
//   node host.mjs
//
// Frames both ways, as main.mjs's: 1 byte type, 4 bytes big-endian payload length,
// payload; here every payload begins with a 4-byte board id, which the Go side picks.
//
//   Go → host  n  start a board: JSON {args: main.mjs's arguments, port, logName}
//              i  console input       I  console input the REPL reads itself
//              k  stop the board (a reset or a quit)
//              a  4 bytes: how many bytes of the board's messages the Go side has taken
//   host → Go  o  the board's messages, framed exactly as main.mjs writes them to stdout
//              x  the board has ended: JSON {code, detail}; its id is not used again
//
// A board may have at most creditWindow bytes of messages that the Go side has not taken;
// beyond that its outbox fills and its program waits in print(), as with main.mjs's pipe,
// without holding up the other boards.
//
// Owns: the boards by id and each one's unacknowledged byte count.

import { parseBoardArgs, resolveMicroPython } from './args.mjs';
import { BoardThread } from './boardthread.mjs';

const creditWindow = 64 * 1024;

function hostFrame(type, id, payload) {
  const body = payload ?? Buffer.alloc(0);
  const out = Buffer.allocUnsafe(9 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeUInt32BE(4 + body.length, 1);
  out.writeUInt32BE(id, 5);
  Buffer.from(body.buffer, body.byteOffset, body.length).copy(out, 9);
  return out;
}

function send(type, id, payload) {
  process.stdout.write(hostFrame(type, id, payload));
}

let micropythonURL;
try {
  micropythonURL = resolveMicroPython();
} catch (err) {
  process.stderr.write(`sim/board host: ${err.message}\n`);
  process.exit(1);
}

// CreditSink is a board's sink: its messages go out as `o` frames while the Go side has
// room for them.
class CreditSink {
  constructor(id) {
    this.id = id;
    this.unacked = 0;
    this.waiters = [];
  }

  write(buf) {
    send('o', this.id, buf);
    this.unacked += buf.length;
    return this.unacked < creditWindow;
  }

  drained() {
    if (this.unacked < creditWindow) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  ack(n) {
    this.unacked = Math.max(0, this.unacked - n);
    if (this.unacked < creditWindow) this.release();
  }

  release() {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

const boards = new Map(); // id → { thread, sink }

function startBoard(id, payload) {
  if (boards.has(id)) {
    process.stderr.write(`sim/board host: board ${id} is already running\n`);
    return;
  }
  let spec;
  let opts;
  try {
    spec = JSON.parse(payload.toString('utf8'));
    opts = parseBoardArgs(spec.args);
  } catch (err) {
    send('x', id, Buffer.from(JSON.stringify({ code: 2, detail: `cannot start the board: ${err.message}` })));
    return;
  }
  const sink = new CreditSink(id);
  const thread = new BoardThread({
    opts,
    micropythonURL,
    env: { ...process.env, WEBREPL_SIM_PORT: spec.port || 'esp32' },
    logName: spec.logName,
    sink,
    onEnd: (code, detail) => {
      boards.delete(id);
      sink.release();
      send('x', id, Buffer.from(JSON.stringify({ code, detail })));
    },
  });
  boards.set(id, { thread, sink });
}

function handle(type, id, payload) {
  if (type === 'n') {
    startBoard(id, payload);
    return;
  }
  const board = boards.get(id);
  if (!board) return; // it ended meanwhile: the Go side learns that from its `x`
  if (type === 'i' || type === 'I') {
    board.thread.input(payload, type === 'I');
  } else if (type === 'k') {
    board.thread.terminate();
  } else if (type === 'a' && payload.length === 4) {
    board.sink.ack(payload.readUInt32BE(0));
  } else {
    process.stderr.write(`sim/board host: ignoring message type ${JSON.stringify(type)} for board ${id}\n`);
  }
}

let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= 5) {
    const len = pending.readUInt32BE(1);
    if (pending.length < 5 + len) break;
    const type = String.fromCharCode(pending[0]);
    const body = pending.subarray(5, 5 + len);
    pending = pending.subarray(5 + len);
    if (body.length < 4) {
      process.stderr.write(`sim/board host: a ${JSON.stringify(type)} message without a board id\n`);
      continue;
    }
    handle(type, body.readUInt32BE(0), body.subarray(4));
  }
});
// The Go side going away means nobody can use these boards any more.
process.stdin.on('end', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
