// The REPL layer in front of the interpreter's own REPL (the port's replProcessChar, that
// is shared/runtime/pyexec.c): each console byte goes to the friendly or the raw REPL, with
// what the port lacks added here — Enter on CR or a lone LF, raw-paste (rawpaste.mjs), a
// Ctrl-C that arrives while a line is being handled, the flash re-read before each
// execution, soft resets.
//
// Owns: the mode (friendly or raw), the raw REPL's pending line, the friendly REPL's last
// byte and paste-mode flag, and a deferred Ctrl-C.

import { CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E, CR, LF } from './ascii.mjs';
import { rawBanner } from './output.mjs';
import { RawPaste } from './rawpaste.mjs';

export class Repl {
  // M: the interpreter's Emscripten module; flash: the Flash; execution: the Execution;
  // output: the ConsoleOutput; consoleIn: the ConsoleInput; ring: the InputRing; reset: the
  // Reset; post: Outbox.post; boardPy: the BoardPython; noRawPaste: model firmware before
  // raw-paste (MicroPython < 1.13).
  constructor({ M, flash, execution, output, consoleIn, ring, reset, post, boardPy, noRawPaste }) {
    this.M = M;
    this.flash = flash;
    this.execution = execution;
    this.output = output;
    this.consoleIn = consoleIn;
    this.ring = ring;
    this.reset = reset;
    this.noRawPaste = noRawPaste;
    this.rawPaste = new RawPaste({ ring, output, post, boardPy, submit: (program) => this.runRawSubmission(program, true) });
    this.mode = 'friendly';
    this.rawLine = []; // raw-REPL input not yet submitted (mirrors pyexec's line buffer)
    // The port's readline ends a line only at CR and ignores LF, while a board's console
    // is fed by clients that send LF or CRLF line ends (the LF of a WebREPL login
    // "secret\r\n" reaches readline on its own). Enter is therefore CR or a lone LF; the LF
    // of a CRLF pair is dropped (docs/protocol/webrepl.md §7.2). Friendly paste mode is
    // left alone: there the port already keeps an LF as a line end of the pasted text, as
    // a board does.
    this.friendly = {
      lastByte: -1, // the byte before the current one, to recognise the LF of a CRLF
      pasteMode: false, // inside Ctrl-E paste mode
    };
    // A friendly-REPL Ctrl-C that arrived while an Enter was being handled that did not
    // run code (a continuation line). It belongs after the input already queued behind
    // that Enter.
    this.deferredCtrlC = false;
  }

  feed(b) {
    return this.M._mp_js_repl_process_char(b);
  }

  // beginExec starts an execution, handing it a deferred Ctrl-C.
  beginExec() {
    this.execution.begin(this.deferredCtrlC);
    this.deferredCtrlC = false;
  }

  // byte handles one console byte.
  byte(b) {
    if (this.mode === 'raw') this.rawByte(b);
    else this.friendlyByte(b);
  }

  // enterRaw switches to the raw REPL at boot (a board soft-reset in raw mode): no banner.
  enterRaw() {
    this.feed(CTRL_A);
    this.output.setSuppressed(false);
    this.output.emitText(rawBanner);
    this.output.emitText('>');
    this.mode = 'raw';
  }

  // runRawSubmission hands a program to the interpreter's raw REPL and runs it.
  runRawSubmission(bytes, dropOK) {
    const { output } = this;
    this.flash.syncFromHost();
    for (const b of bytes) this.feed(b);
    output.setDropOK(dropOK);
    this.beginExec();
    const ret = this.feed(CTRL_D);
    this.execution.end();
    output.setDropOK(false);
    output.release();
    if (ret !== 0) this.reset.soft();
  }

  rawByte(b) {
    const { output } = this;
    switch (b) {
      case CTRL_A:
        // Firmware before raw-paste (MicroPython < 1.13) has no such escape: Ctrl-A just
        // restarts the raw REPL, and the client falls back to pacing.
        if (this.rawLine.length === 2 && this.rawLine[0] === CTRL_E && !this.noRawPaste) {
          const command = this.rawLine[1];
          this.rawLine = [];
          if (command === 0x41) {
            this.rawPaste.run();
          } else {
            output.emitText('R\x00');
            output.emitText('>');
          }
          return;
        }
        this.rawLine = [];
        this.feed(CTRL_A); // the interpreter prints "raw REPL; CTRL-B to exit\r\n>"
        return;
      case CTRL_B:
        this.rawLine = [];
        this.feed(CTRL_B);
        this.mode = 'friendly';
        this.friendly.lastByte = -1;
        this.friendly.pasteMode = false;
        return;
      case CTRL_C:
        this.rawLine = [];
        return;
      case CTRL_D: {
        if (this.rawLine.length === 0) {
          if (this.feed(CTRL_D) !== 0) this.reset.soft();
          return;
        }
        const program = this.rawLine;
        this.rawLine = [];
        this.runRawSubmission(program, false);
        return;
      }
      default:
        this.rawLine.push(b);
    }
  }

  friendlyByte(input) {
    const { friendly, output } = this;
    let b = input;
    const previous = friendly.lastByte;
    friendly.lastByte = input;
    const afterInputLine = this.consoleIn.takeSwallowLF(); // input() ended its line with CR: this LF is that line's
    if (b === LF && !friendly.pasteMode) {
      if (previous === CR || afterInputLine) return;
      b = CR;
    }
    const mayRun = b === CR || b === CTRL_D;
    if (mayRun) {
      this.flash.syncFromHost();
      this.beginExec();
    }
    output.watchBanners();
    let ret = this.feed(b);
    let leavesPaste = b === CTRL_C || b === CTRL_D;
    if (mayRun && this.execution.end() && ret === 0) this.deferredCtrlC = true;
    if (this.deferredCtrlC && ret === 0 && this.ring.available() === 0) {
      // Nothing else is queued: the unconsumed Ctrl-C acts at the prompt (clears the line).
      this.deferredCtrlC = false;
      ret = this.feed(CTRL_C);
      leavesPaste = true;
    }
    output.release();
    if (ret !== 0) this.reset.soft();
    if (output.sawPasteBanner) friendly.pasteMode = true;
    else if (leavesPaste) friendly.pasteMode = false;
    if (b === CTRL_A && output.sawRawBanner) {
      this.mode = 'raw';
      this.rawLine = [];
    }
  }
}
