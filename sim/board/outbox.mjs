// The worker's end of the outbox (ring.mjs): messages to main.mjs, each framed straight into
// shared memory, so it reaches the Go side while the interpreter runs on, even in a loop
// that never calls out again.
//
// Owns: the outbox's write position (HEAD) and the frame header buffer. main.mjs owns the
// read position (TAIL).

import { RING, openRing, ringUsed, outboxCapacity } from './ring.mjs';

// A console write larger than this leaves as several `o` messages, so that one frame always
// fits the outbox; only a single print of a huge string is affected.
const maxOutPayload = 64 * 1024;

export class Outbox {
  constructor(sab) {
    this.ring = openRing(sab, outboxCapacity);
    this.head = Atomics.load(this.ring.ctl, RING.HEAD);
    this.header = new Uint8Array(5);
    this.headerView = new DataView(this.header.buffer);
  }

  // post sends one message: type is one character, payload bytes (none if undefined).
  post(type, payload) {
    const bytes = payload === undefined ? new Uint8Array(0) : payload;
    if (bytes.length > maxOutPayload) {
      for (let i = 0; i < bytes.length; i += maxOutPayload) this.post(type, bytes.subarray(i, i + maxOutPayload));
      return;
    }
    this.waitForRoom(this.header.length + bytes.length);
    this.header[0] = type.charCodeAt(0);
    this.headerView.setUint32(1, bytes.length);
    this.put(this.header);
    this.put(bytes);
    // Only whole frames are published.
    Atomics.store(this.ring.ctl, RING.HEAD, this.head);
    Atomics.notify(this.ring.ctl, RING.HEAD);
  }

  put(bytes) {
    const { data, size } = this.ring;
    const first = Math.min(bytes.length, size - this.head);
    data.set(first === bytes.length ? bytes : bytes.subarray(0, first), this.head);
    if (first < bytes.length) data.set(bytes.subarray(first), 0);
    this.head = (this.head + bytes.length) % size;
  }

  // waitForRoom blocks while the Go side is not reading: the board waits in print().
  waitForRoom(need) {
    const { ctl, capacity } = this.ring;
    for (;;) {
      const tail = Atomics.load(ctl, RING.TAIL);
      if (capacity - ringUsed(this.ring, this.head, tail) >= need) return;
      Atomics.wait(ctl, RING.TAIL, tail, 100);
    }
  }
}
