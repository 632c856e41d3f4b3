// Console input for running programs: input() (the board's readline, through
// _board.readline) and reads of sys.stdin, both taking bytes from the input ring.
//
// Owns: swallowLF, whether the last input line ended with CR, so that a following LF
// belongs to it (the friendly REPL asks through takeSwallowLF).

import { CR, LF, CTRL_C, CTRL_D, latin1 } from './ascii.mjs';

const EINTR = 27; // Emscripten's number: MicroPython handles pending events and retries

export class ConsoleInput {
  // ring: the InputRing; execution: the Execution; output: the ConsoleOutput (echo).
  constructor({ ring, execution, output }) {
    this.ring = ring;
    this.execution = execution;
    this.output = output;
    this.swallowLF = false;
  }

  // takeSwallowLF reports whether an input line just ended with CR, and forgets it.
  takeSwallowLF() {
    const s = this.swallowLF;
    this.swallowLF = false;
    return s;
  }

  // readline is the board's readline for input(): echoes what is typed, ends at CR or LF
  // with "\r\n". Returns the line, null for Ctrl-C, or -1 for Ctrl-D on an empty line.
  readline() {
    const line = [];
    let escape = 0;
    for (;;) {
      if (this.execution.takeInterrupt()) return null;
      const b = this.ring.takeByte(50);
      if (b < 0) continue;
      if (this.swallowLF) {
        this.swallowLF = false;
        if (b === LF) continue;
      }
      if (escape > 0) {
        // Skip cursor-key escape sequences (ESC [ x); a notebook never sends them.
        escape = escape === 1 && b === 0x5b ? 2 : 0;
        continue;
      }
      if (b === CR || b === LF) {
        this.swallowLF = b === CR;
        this.output.write(latin1('\r\n'));
        return Buffer.from(line).toString('utf8');
      }
      if (b === CTRL_C) return null;
      if (b === CTRL_D && line.length === 0) return -1;
      if (b === 0x08 || b === 0x7f) {
        if (line.length > 0) {
          // Erase a whole UTF-8 character.
          let n = 1;
          while (n < line.length && (line[line.length - n] & 0xc0) === 0x80) n++;
          line.length -= n;
          this.output.write(latin1('\b \b'));
        }
        continue;
      }
      if (b === 0x1b) {
        escape = 1;
        continue;
      }
      if (b < 0x20 && b !== 0x09) continue;
      line.push(b);
      this.output.write(Uint8Array.of(b));
    }
  }

  // readStdin serves reads of fd 0 (sys.stdin): raw bytes, no echo, like the board's stdin
  // stream. A Ctrl-C raises KeyboardInterrupt through EINTR, so the traceback is the
  // caller's, exactly as on a board.
  readStdin(FS, buffer, offset, length) {
    if (length === 0) return 0;
    for (;;) {
      const intr = this.execution.stdinInterrupt();
      if (intr === 'raise') throw new FS.ErrnoError(EINTR);
      if (intr === 'byte') {
        // micropython.kbd_intr(-1): the program reads Ctrl-C as an ordinary byte.
        buffer[offset] = CTRL_C;
        return 1;
      }
      const b = this.ring.takeByte(50);
      if (b < 0) continue;
      if (this.swallowLF) this.swallowLF = false;
      buffer[offset] = b;
      let n = 1;
      while (n < length) {
        const more = this.ring.takeByte(0);
        if (more < 0) break;
        buffer[offset + n++] = more;
      }
      return n;
    }
  }
}
