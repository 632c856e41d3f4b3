// Resets: the board process ends its life by telling the Go side, which replaces it.
//
// Owns: nothing; after halt nothing more runs on this board.

import { quietWord } from './input.mjs';

export class Reset {
  // output: the ConsoleOutput (held output leaves first); post: Outbox.post; ring: the
  // InputRing (a control word to wait on forever).
  constructor({ output, post, ring }) {
    this.output = output;
    this.post = post;
    this.ring = ring;
  }

  // halt reports type ('s' soft reset, 'h' hard reset) and never returns.
  halt(type) {
    this.output.release();
    this.post(type);
    // The Go side now replaces this process; nothing more may run on this board.
    for (;;) Atomics.wait(this.ring.ctl, quietWord, 0);
  }

  soft() {
    this.halt('s');
  }

  hard() {
    this.halt('h');
  }
}
