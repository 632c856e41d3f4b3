// Simulated MicroPython ESP32 board: the process the Go side (package sim) supervises.
//
// This main thread owns the framed stdin/stdout protocol of docs/design.md and the board's
// stdin ring (a SharedArrayBuffer); the interpreter and the REPL layer run in worker.mjs so
// that console input, Ctrl-C and quit keep working while Python code executes.
//
//   node main.mjs --fs DIR --queue N [--firmware X.Y.Z] [--direct-read] [--vm-hook] [--raw] [--no-raw-paste]
//
// --firmware is the MicroPython release the board reports; --direct-read models an ESP32
// from v1.28, whose REPL reads the socket itself while it waits for input (Go sends that
// input as `I`, never dropped); --vm-hook models an ESP8266, whose VM hook lets a Ctrl-C
// interrupt a loop that never calls out (docs/protocol/simulator.md §4).
//
// Frames both ways: 1 byte type, 4 bytes big-endian payload length, payload.

import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { RING, allocRing, outboxCapacity } from './ring.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const packagePath = '@micropython/micropython-webassembly-pyscript/micropython.mjs';

// A queue of 0 means "ideal board": no input is ever lost. The ring is then large enough
// for anything a client could reasonably send before the REPL consumes it.
const unboundedQueue = 16 * 1024 * 1024;

function usage(message) {
  process.stderr.write(`sim/board: ${message}\nusage: node main.mjs --fs DIR --queue N [--firmware X.Y.Z] [--direct-read] [--vm-hook] [--raw] [--no-raw-paste]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { fsDir: '', queue: -1, raw: false, noRawPaste: false, firmware: '', directRead: false, vmHook: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--fs') {
      if (i + 1 >= argv.length) usage('--fs needs a directory');
      opts.fsDir = argv[++i];
    } else if (arg === '--queue') {
      if (i + 1 >= argv.length) usage('--queue needs a number');
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) usage(`--queue ${argv[i]}: not a byte count`);
      opts.queue = n;
    } else if (arg === '--firmware') {
      if (i + 1 >= argv.length || !/^\d+\.\d+\.\d+$/.test(argv[i + 1])) usage('--firmware needs a release such as 1.28.0');
      opts.firmware = argv[++i];
    } else if (arg === '--direct-read') {
      opts.directRead = true;
    } else if (arg === '--vm-hook') {
      opts.vmHook = true;
    } else if (arg === '--raw') {
      opts.raw = true;
    } else if (arg === '--no-raw-paste') {
      opts.noRawPaste = true;
    } else {
      usage(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (!opts.fsDir) usage('--fs DIR is required');
  if (opts.queue < 0) usage('--queue N is required');
  let stat;
  try {
    stat = fs.statSync(opts.fsDir);
  } catch (err) {
    usage(`--fs ${opts.fsDir}: ${err.message}`);
  }
  if (!stat.isDirectory()) usage(`--fs ${opts.fsDir}: not a directory`);
  opts.fsDir = fs.realpathSync(opts.fsDir);
  return opts;
}

// resolveMicroPython finds the pinned npm package: in WEBREPL_SIM_MODULES when the Go side
// set it (and only there), else in node_modules beside this file or further up.
function resolveMicroPython() {
  const fromEnv = process.env.WEBREPL_SIM_MODULES;
  if (fromEnv) {
    const file = path.join(fromEnv, packagePath);
    if (!fs.existsSync(file)) {
      process.stderr.write(`sim/board: MicroPython package not found at ${file} (WEBREPL_SIM_MODULES=${fromEnv})\n`);
      process.exit(1);
    }
    return pathToFileURL(file).href;
  }
  try {
    return pathToFileURL(createRequire(path.join(here, 'main.mjs')).resolve(packagePath)).href;
  } catch {
    process.stderr.write(`sim/board: MicroPython package not found in ${path.join(here, 'node_modules')} (run npm install in sim/board or set WEBREPL_SIM_MODULES)\n`);
    process.exit(1);
  }
}

function frame(type, payload) {
  const body = payload ?? Buffer.alloc(0);
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeUInt32BE(body.length, 1);
  Buffer.from(body.buffer, body.byteOffset, body.length).copy(out, 5);
  return out;
}

const opts = parseArgs(process.argv.slice(2));
const capacity = opts.queue === 0 ? unboundedQueue : opts.queue;
// With --direct-read the ring also holds what the REPL reads from the socket itself: those
// bytes are never dropped at the board's ring size (capacity), only beyond this, which
// stands for lwIP's receive window (a client sending that much to an idle REPL unread).
const socketWindow = 64 * 1024;
const ring = allocRing(opts.directRead ? Math.max(capacity, socketWindow) : capacity);
const size = ring.size;
const outbox = allocRing(outboxCapacity);
let dropped = 0;

const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
  workerData: {
    sab: ring.sab,
    outboxSab: outbox.sab,
    capacity: ring.capacity,
    fsDir: opts.fsDir,
    firmware: opts.firmware,
    vmHook: opts.vmHook,
    raw: opts.raw,
    noRawPaste: opts.noRawPaste,
    micropythonURL: resolveMicroPython(),
  },
  // stdout carries the framed protocol: anything the worker (or Emscripten) prints with
  // console.log goes to stderr instead of corrupting it.
  stdout: true,
  stderr: false,
});
worker.stdout.on('data', (chunk) => process.stderr.write(chunk));

// The ESP8266 VM hook (--vm-hook): the worker shares its interpreter's memory and tells
// where a Ctrl-C goes; this thread then schedules the KeyboardInterrupt itself, as the
// board's network hook does between bytecodes, so even `while True: pass` stops.
let vmHook = null;
worker.on('message', (m) => {
  if (m && m.type === 'vm-hook') {
    vmHook = { words: new Int32Array(m.memory), pending: m.pending >> 2, sched: m.sched >> 2, kbd: m.kbd, traceback: (m.kbd + 8) >> 2, interruptChar: m.interruptChar >> 2 };
  }
});

// interruptVM does what mp_sched_keyboard_interrupt() does (py/scheduler.c): reset the
// preallocated KeyboardInterrupt's traceback, make it the pending exception and mark the
// scheduler pending, so the VM raises it at its next backward jump. Only while the
// program has Ctrl-C armed (micropython.kbd_intr): otherwise false.
function interruptVM() {
  if (!vmHook) return false;
  const { words } = vmHook;
  if (Atomics.load(words, vmHook.interruptChar) !== 0x03) return false;
  Atomics.store(words, vmHook.traceback, 0);
  Atomics.store(words, vmHook.pending, vmHook.kbd);
  Atomics.compareExchange(words, vmHook.sched, 1, 0); // MP_SCHED_IDLE → MP_SCHED_PENDING
  return true;
}

function writeOut(buf) {
  return process.stdout.write(buf);
}

// takeOutbox copies out the framed messages the worker has published and frees their room.
function takeOutbox(tail, head) {
  const { ctl, data } = outbox;
  const chunk = head > tail ? Buffer.from(data.subarray(tail, head)) : Buffer.concat([data.subarray(tail), data.subarray(0, head)]);
  Atomics.store(ctl, RING.TAIL, head);
  Atomics.notify(ctl, RING.TAIL);
  return chunk;
}

// pumpOutbox forwards the worker's messages to the Go side as they are published. While the
// pipe to the Go side is backed up it stops taking them, so the outbox fills and the board
// waits in print(): output cannot pile up in memory without bound.
async function pumpOutbox() {
  const { ctl } = outbox;
  let tail = Atomics.load(ctl, RING.TAIL);
  for (;;) {
    const head = Atomics.load(ctl, RING.HEAD);
    if (head === tail) {
      const waiting = Atomics.waitAsync(ctl, RING.HEAD, head);
      if (waiting.async) await waiting.value;
      continue;
    }
    const chunk = takeOutbox(tail, head);
    tail = head;
    if (!writeOut(chunk)) await once(process.stdout, 'drain');
  }
}

// flushOutbox forwards what the worker published before it ended.
function flushOutbox() {
  const { ctl } = outbox;
  const tail = Atomics.load(ctl, RING.TAIL);
  const head = Atomics.load(ctl, RING.HEAD);
  if (head !== tail) writeOut(takeOutbox(tail, head));
}

pumpOutbox().catch((err) => {
  process.stderr.write(`sim/board: forwarding output failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

worker.on('error', (err) => {
  flushOutbox();
  process.stderr.write(`sim/board: worker failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
worker.on('exit', (code) => {
  flushOutbox();
  process.stderr.write(`sim/board: worker exited with code ${code}\n`);
  process.exit(code === 0 ? 0 : 1);
});

// Console input: like ringbuf_put on the board, bytes that do not fit are dropped and
// counted; a Ctrl-C that arrives while code runs becomes a KeyboardInterrupt instead
// (os_dupterm behaviour) and is not queued. direct input (the REPL reading the socket
// itself) is limited only by the socket window, not by the board's ring.
function consoleInput(bytes, direct) {
  const { ctl, data } = ring;
  const limit = direct ? ring.capacity : Math.min(capacity, ring.capacity);
  let head = Atomics.load(ctl, RING.HEAD);
  let droppedNow = 0;
  let interrupted = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x03 && Atomics.load(ctl, RING.EXEC) === 1) {
      // 2: the VM hook has scheduled the KeyboardInterrupt already (execution.mjs).
      Atomics.store(ctl, RING.INTR, interruptVM() ? 2 : 1);
      interrupted = true;
      continue;
    }
    if ((head - Atomics.load(ctl, RING.TAIL) + size) % size >= limit) {
      droppedNow++;
      continue;
    }
    const next = (head + 1) % size;
    data[head] = b;
    head = next;
  }
  Atomics.store(ctl, RING.HEAD, head);
  Atomics.notify(ctl, RING.HEAD);
  if (interrupted) Atomics.notify(ctl, RING.INTR);
  if (droppedNow > 0) {
    dropped = (dropped + droppedNow) >>> 0;
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(dropped, 0);
    writeOut(frame('d', payload));
  }
}

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
      consoleInput(payload, type === 'I');
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
