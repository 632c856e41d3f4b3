// The worker's end of the board's console input ring (ring.mjs). main.mjs puts what the
// client sends into it, dropping what does not fit (the loss model); the worker takes bytes
// out here, blocking on Atomics.wait while there are none.
//
// Owns: the ring's read position (TAIL). main.mjs owns HEAD; the INTR and EXEC words of the
// same control block belong to execution.mjs.

import { RING, openRing } from './ring.mjs';

// A control word nobody notifies: waiting on it is a plain timed sleep.
export const quietWord = RING.WORDS - 1;

export class InputRing {
  constructor(sab, capacity) {
    const { ctl, data, size } = openRing(sab, capacity);
    this.ctl = ctl; // the whole control block, shared with execution.mjs
    this.data = data;
    this.slots = size;
    this.tail = Atomics.load(ctl, RING.TAIL);
  }

  // available is how many bytes wait to be taken.
  available() {
    return (Atomics.load(this.ctl, RING.HEAD) - this.tail + this.slots) % this.slots;
  }

  // takeByte returns the next console byte, or -1 after waitMs without input.
  takeByte(waitMs) {
    for (;;) {
      const head = Atomics.load(this.ctl, RING.HEAD);
      if (head !== this.tail) {
        const b = this.data[this.tail];
        this.advance();
        return b;
      }
      if (waitMs === 0) return -1;
      if (Atomics.wait(this.ctl, RING.HEAD, head, waitMs) === 'timed-out') return -1;
    }
  }

  // takeIfNext takes the next byte only if it is b (and one is waiting).
  takeIfNext(b) {
    if (Atomics.load(this.ctl, RING.HEAD) === this.tail || this.data[this.tail] !== b) return false;
    this.advance();
    return true;
  }

  // newest is the byte that arrived last (undefined when none waits).
  newest() {
    const head = Atomics.load(this.ctl, RING.HEAD);
    return head === this.tail ? undefined : this.data[(head - 1 + this.slots) % this.slots];
  }

  advance() {
    this.tail = (this.tail + 1) % this.slots;
    Atomics.store(this.ctl, RING.TAIL, this.tail);
  }
}
