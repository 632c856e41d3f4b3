// The board's stdin ring, shared between main.mjs (producer) and worker.mjs (consumer).
//
// Int32 control words come first (Atomics.wait needs an Int32Array), then the byte ring.
// The ring keeps one slot empty, so a capacity of N usable bytes needs N+1 slots, which is
// exactly how MicroPython's ringbuf_t behaves (a 260-byte array holds 259 bytes).

export const RING = Object.freeze({
  HEAD: 0, // next slot the producer writes
  TAIL: 1, // next slot the consumer reads
  INTR: 2, // 1 = a Ctrl-C arrived while code was executing
  EXEC: 3, // 1 = the worker is executing code (Ctrl-C means KeyboardInterrupt)
  OUTBUSY: 4, // 1 = stdout to the Go side is backed up: the board waits, as print() blocks
  WORDS: 8,
});

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
    ctl: new Int32Array(sab, 0, RING.WORDS),
    data: new Uint8Array(sab, RING.WORDS * 4, ringSize(capacity)),
  };
}
