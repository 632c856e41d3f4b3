// The device side of raw-paste mode (docs/protocol/webrepl.md §4): the window, one \x01 per
// window consumed, the \x04 acknowledgement, early end on a syntax error, Ctrl-C abort.
// The port cannot do this itself (it has no console input), so the program is collected
// here and handed to the interpreter's raw REPL as a standard submission.
//
// Owns: nothing between runs; one run's program, credit and syntax-check progress are
// local to RawPaste.run.

import { CTRL_A, CTRL_B, CTRL_C, CTRL_D, LF, latin1 } from './ascii.mjs';
import { log } from './log.mjs';

export const rawPasteWindow = 128; // MICROPY_REPL_STDIN_BUFFER_MAX / 2 on ESP32
// Compiling the whole prefix at every pause would be quadratic for large programs, so the
// early-end syntax check runs again only once a quarter of what it would compile is new.
const syntaxCheckGrowth = 4;

const enc = new TextEncoder();

export class RawPaste {
  // ring: the InputRing; output: the ConsoleOutput; post: Outbox.post; boardPy: the
  // BoardPython (its syntax check); submit(bytes): runs a program as a raw submission whose
  // "OK" is dropped.
  constructor({ ring, output, post, boardPy, submit }) {
    this.ring = ring;
    this.output = output;
    this.post = post;
    this.boardPy = boardPy;
    this.submit = submit;
  }

  // run serves one raw-paste session, from the board's "R\x01" to the program's end.
  run() {
    const { ring, output } = this;
    output.emitText('R\x01');
    output.emit(Uint8Array.of(rawPasteWindow & 0xff, rawPasteWindow >> 8, 0x01));
    // How the host uses its credit, reported to the Go side (Board.RawPasteCredit): the
    // window plus the 0x01 above, then one window per 0x01 sent below. Whenever a byte is
    // taken, the program bytes that have arrived so far are compared with the credit
    // granted so far; a host that sends beyond its credit shows up as a positive excess
    // (bytes that already wait in the ring when the board takes one arrived no later than
    // now).
    let granted = 2 * rawPasteWindow;
    let maxExcess = -Infinity;
    const report = () => {
      if (maxExcess !== -Infinity) this.post('c', enc.encode(JSON.stringify({ maxExcess })));
    };
    const program = [];
    let completeLines = 0;
    let checkedLines = 0;
    let checkedBytes = 0;
    let prefixEnd = 0; // program[0:prefixEnd] are the complete lines received so far
    let endedEarly = false;
    for (;;) {
      const b = ring.takeByte(Infinity);
      if (b !== CTRL_D && b !== CTRL_C && !endedEarly) {
        // The end marker (0x04) after the program needs no credit; programs never hold one.
        let waiting = ring.available();
        if (waiting > 0 && ring.newest() === CTRL_D) waiting--;
        maxExcess = Math.max(maxExcess, program.length + 1 + waiting - granted);
      }
      if (endedEarly) {
        if (b === CTRL_D || b === CTRL_C) break;
        continue;
      }
      if (b === CTRL_D) {
        output.emitText('\x04');
        break;
      }
      if (b === CTRL_C) {
        // The reader raises the preallocated KeyboardInterrupt, which has no traceback.
        output.emitText('\x04');
        output.emitText('\x04');
        output.emitText('KeyboardInterrupt: ');
        output.emitText('\r\n');
        output.emitText('\x04');
        output.emitText('>');
        report();
        return;
      }
      program.push(b);
      if (program.length % rawPasteWindow === 0) {
        output.emit(Uint8Array.of(0x01));
        granted += rawPasteWindow;
      }
      if (b === LF) {
        completeLines++;
        prefixEnd = program.length;
      }
      // The board's compiler notices a syntax error while the host is still sending. Here
      // the received lines are compiled when the host pauses (waiting for credit or done),
      // and rarely enough that the total work stays a small multiple of the program size.
      if (completeLines > checkedLines && ring.available() === 0 && (prefixEnd - checkedBytes) * syntaxCheckGrowth >= prefixEnd) {
        checkedLines = completeLines;
        checkedBytes = prefixEnd;
        if (this.earlySyntaxError(program.slice(0, prefixEnd), completeLines)) {
          output.emitText('\x04');
          endedEarly = true;
          program.length = prefixEnd;
        }
      }
    }
    report();
    if (program.length === 0) {
      output.emitText('\x04');
      output.emitText('\x04');
      output.emitText('>');
      return;
    }
    // Ctrl-A/Ctrl-B would act on the raw REPL; as escapes they keep their meaning inside
    // string literals and stay syntax errors elsewhere, as on a board.
    const submission = [];
    for (const b of program) {
      if (b === CTRL_A || b === CTRL_B) submission.push(...latin1(b === CTRL_A ? '\\x01' : '\\x02'));
      else submission.push(b);
    }
    this.submit(submission);
  }

  // earlySyntaxError reports whether the program received so far already has a syntax
  // error that no further input could repair.
  earlySyntaxError(program, completeLines) {
    const check = this.boardPy.syntaxErrorLine;
    if (!check) return false;
    const src = Buffer.from(program).toString('utf8');
    try {
      const line = check(src);
      // Running out of input (an open bracket, a backslash continuation, a block still
      // without a body) is reported on the line after the last one, so an error on a
      // received line, the last included, is the board's own parser failing there.
      if (!(line > 0 && line <= completeLines)) return false;
      // An unterminated string (triple-quoted, or continued with a backslash) is reported
      // at its first line, yet more input would close it: only an error that stays put
      // when such a string is closed is final.
      for (const closer of ['"""\n', "'''\n", '"\n', "'\n"]) {
        if (check(src + closer) !== line) return false;
      }
      return true;
    } catch (err) {
      log(`raw-paste syntax check failed: ${err.message}`);
      return false;
    }
  }
}
