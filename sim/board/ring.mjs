// Shared memory between main.mjs and worker.mjs: the board's stdin ring (main produces,
// the worker consumes) and the outbox (the worker produces framed messages, main consumes).
//
// Int32 control words come first (Atomics.wait needs an Int32Array), then the byte ring.
// A ring keeps one slot empty, so a capacity of N usable bytes needs N+1 slots, which is
// exactly how MicroPython's ringbuf_t behaves (a 260-byte array holds 259 bytes).

export const RING = Object.freeze({
  HEAD: 0, // next slot the producer writes
  TAIL: 1, // next slot the consumer reads
  INTR: 2, // stdin ring: 1 = a Ctrl-C arrived while code was executing
  EXEC: 3, // stdin ring: 1 = the worker is executing code (Ctrl-C means KeyboardInterrupt)
  WORDS: 8,
});

// Outbox capacity. Each console write is copied here at once, so it reaches the Go side
// even if the program then spins without calling out of the interpreter. When the Go side
// stops reading, the outbox fills and the board waits in print(), as a board does when its
// socket is backed up; the capacity bounds what can pile up meanwhile.
export const outboxCapacity = 256 * 1024;

export function ringSize(capacity) {
  return capacity + 1;
}

export function allocRing(capacity) {
  const sab = new SharedArrayBuffer(RING.WORDS * 4 + ringSize(capacity));
  return openRing(sab, capacity);
}

export function openRing(sab, capacity) {
  return {
    sab,
    capacity,
    size: ringSize(capacity),
    ctl: new Int32Array(sab, 0, RING.WORDS),
    data: new Uint8Array(sab, RING.WORDS * 4, ringSize(capacity)),
  };
}

// ringUsed is how many bytes wait in the ring between tail and head.
export function ringUsed(ring, head, tail) {
  return (head - tail + ring.size) % ring.size;
}
