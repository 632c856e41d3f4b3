// One simulated board seen from its process's main thread: the worker thread that runs it
// (worker.mjs), the board's stdin ring (the write side, with the loss of the modelled ring)
// and the outbox the worker frames its messages into, forwarded to a sink as they are
// published. main.mjs runs one board per process, host.mjs many.
//
// Owns: the worker, the stdin ring's write side and the count of bytes it dropped, the
// outbox's read side, and the ESP8266 VM hook's view of the interpreter's memory.

import { Worker } from 'node:worker_threads';
import { RING, allocRing, outboxCapacity } from './ring.mjs';

// A queue of 0 means "ideal board": no input is ever lost. The ring is then large enough
// for anything a client could reasonably send before the REPL consumes it.
const unboundedQueue = 16 * 1024 * 1024;

// With --direct-read the ring also holds what the REPL reads from the socket itself: those
// bytes are never dropped at the board's ring size (capacity), only beyond this, which
// stands for lwIP's receive window (a client sending that much to an idle REPL unread).
const socketWindow = 64 * 1024;

// frame builds one message of the board's framed protocol (docs/design.md): 1 byte type,
// 4 bytes big-endian payload length, payload.
export function frame(type, payload) {
  const body = payload ?? Buffer.alloc(0);
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeUInt32BE(body.length, 1);
  Buffer.from(body.buffer, body.byteOffset, body.length).copy(out, 5);
  return out;
}

export class BoardThread {
  // opts: parseBoardArgs's result; micropythonURL: resolveMicroPython's; env: the worker's
  // environment (undefined: this process's); logName: how the worker's log lines begin
  // (undefined: "sim/board"). sink receives the board's framed messages: write(bytes)
  // returns false while its reader is backed up, and drained() resolves once it may be
  // written again. onEnd(code, detail) is called once, when the board has ended (code 0:
  // the worker exited normally), after everything it published went to the sink.
  constructor({ opts, micropythonURL, env, logName, sink, onEnd }) {
    this.sink = sink;
    this.onEnd = onEnd;
    this.ended = false;
    this.capacity = opts.queue === 0 ? unboundedQueue : opts.queue;
    this.ring = allocRing(opts.directRead ? Math.max(this.capacity, socketWindow) : this.capacity);
    this.outbox = allocRing(outboxCapacity);
    this.dropped = 0;
    this.vmHook = null;
    this.worker = new Worker(new URL('./worker.mjs', import.meta.url), {
      workerData: {
        sab: this.ring.sab,
        outboxSab: this.outbox.sab,
        capacity: this.ring.capacity,
        fsDir: opts.fsDir,
        firmware: opts.firmware,
        vmHook: opts.vmHook,
        raw: opts.raw,
        noRawPaste: opts.noRawPaste,
        wifi: opts.wifi,
        webreplOff: opts.webreplOff,
        micropythonURL,
        logName,
      },
      ...(env ? { env } : {}),
      // The sink may be this process's stdout: anything the worker (or Emscripten) prints
      // with console.log goes to stderr instead of corrupting it.
      stdout: true,
      stderr: false,
    });
    this.worker.stdout.on('data', (chunk) => process.stderr.write(chunk));
    // The ESP8266 VM hook (--vm-hook): the worker shares its interpreter's memory and tells
    // where a Ctrl-C goes; this thread then schedules the KeyboardInterrupt itself, as the
    // board's network hook does between bytecodes, so even `while True: pass` stops.
    this.worker.on('message', (m) => {
      if (m && m.type === 'vm-hook') {
        this.vmHook = { words: new Int32Array(m.memory), pending: m.pending >> 2, sched: m.sched >> 2, kbd: m.kbd, traceback: (m.kbd + 8) >> 2, interruptChar: m.interruptChar >> 2 };
      }
    });
    this.worker.on('error', (err) => this.end(1, `worker failed: ${err && err.stack ? err.stack : err}`));
    this.worker.on('exit', (code) => this.end(code, `worker exited with code ${code}`));
    this.pump().catch((err) => {
      this.end(1, `forwarding output failed: ${err && err.stack ? err.stack : err}`);
      this.worker.terminate();
    });
  }

  // end forwards what the worker published last and reports the end, once.
  end(code, detail) {
    if (this.ended) return;
    this.ended = true;
    this.flushOutbox();
    Atomics.notify(this.outbox.ctl, RING.HEAD); // the pump stops
    this.onEnd(code, detail);
  }

  // terminate stops the worker wherever it is (a reset or a quit); onEnd follows.
  terminate() {
    return this.worker.terminate();
  }

  // interruptVM does what mp_sched_keyboard_interrupt() does (py/scheduler.c): reset the
  // preallocated KeyboardInterrupt's traceback, make it the pending exception and mark the
  // scheduler pending, so the VM raises it at its next backward jump. Only while the
  // program has Ctrl-C armed (micropython.kbd_intr): otherwise false.
  interruptVM() {
    const hook = this.vmHook;
    if (!hook) return false;
    const { words } = hook;
    if (Atomics.load(words, hook.interruptChar) !== 0x03) return false;
    Atomics.store(words, hook.traceback, 0);
    Atomics.store(words, hook.pending, hook.kbd);
    Atomics.compareExchange(words, hook.sched, 1, 0); // MP_SCHED_IDLE → MP_SCHED_PENDING
    return true;
  }

  // takeOutbox copies out the framed messages the worker has published and frees their room.
  takeOutbox(tail, head) {
    const { ctl, data } = this.outbox;
    const chunk = head > tail ? Buffer.from(data.subarray(tail, head)) : Buffer.concat([data.subarray(tail), data.subarray(0, head)]);
    Atomics.store(ctl, RING.TAIL, head);
    Atomics.notify(ctl, RING.TAIL);
    return chunk;
  }

  // pump forwards the worker's messages to the sink as they are published. While the sink
  // is backed up it stops taking them, so the outbox fills and the board waits in print():
  // output cannot pile up in memory without bound.
  async pump() {
    const { ctl } = this.outbox;
    let tail = Atomics.load(ctl, RING.TAIL);
    while (!this.ended) {
      const head = Atomics.load(ctl, RING.HEAD);
      if (head === tail) {
        const waiting = Atomics.waitAsync(ctl, RING.HEAD, head);
        if (waiting.async) await waiting.value;
        continue;
      }
      const chunk = this.takeOutbox(tail, head);
      tail = head;
      if (!this.sink.write(chunk)) await this.sink.drained();
    }
  }

  // flushOutbox forwards what the worker published before it ended.
  flushOutbox() {
    const { ctl } = this.outbox;
    const tail = Atomics.load(ctl, RING.TAIL);
    const head = Atomics.load(ctl, RING.HEAD);
    if (head !== tail) this.sink.write(this.takeOutbox(tail, head));
  }

  // input is console input: like ringbuf_put on the board, bytes that do not fit are dropped
  // and counted; a Ctrl-C that arrives while code runs becomes a KeyboardInterrupt instead
  // (os_dupterm behaviour) and is not queued. direct input (the REPL reading the socket
  // itself) is limited only by the socket window, not by the board's ring.
  input(bytes, direct) {
    const { ring, capacity } = this;
    const { ctl, data, size } = ring;
    const limit = direct ? ring.capacity : Math.min(capacity, ring.capacity);
    let head = Atomics.load(ctl, RING.HEAD);
    // The REPL waits for input yet has not read what came before: this process was kept off
    // the CPU (a board reads it at once). A loss now is reported as such a stall.
    const backlog = Atomics.load(ctl, RING.EXEC) === 0 && head !== Atomics.load(ctl, RING.TAIL);
    let droppedNow = 0;
    let interrupted = false;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x03 && Atomics.load(ctl, RING.EXEC) === 1) {
        // 2: the VM hook has scheduled the KeyboardInterrupt already (execution.mjs).
        Atomics.store(ctl, RING.INTR, this.interruptVM() ? 2 : 1);
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
    if (interrupted) {
      Atomics.notify(ctl, RING.INTR);
      // Tells the Go side that a Ctrl-C was read while code runs, so that it presses reset
      // if the code does not stop (--reset-after). Written before the outbox is forwarded
      // again, so before the worker's "back at a prompt" that may follow.
      this.sink.write(frame('b', Uint8Array.of(1, 1)));
    }
    if (droppedNow > 0) {
      this.dropped = (this.dropped + droppedNow) >>> 0;
      const payload = Buffer.alloc(5);
      payload.writeUInt32BE(this.dropped, 0);
      payload[4] = backlog ? 1 : 0;
      this.sink.write(frame('d', payload));
    }
  }
}
