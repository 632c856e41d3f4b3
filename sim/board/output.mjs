// Console output: everything the board prints passes through ConsoleOutput.write, which
// cooks it like an ESP32 (every bare LF becomes CRLF, one write per line piece), hides
// traceback lines that point into the board's own Python (py/, compiled under
// boardSourceName: on a real board those functions are C code and leave no frame), drops
// the interpreter's OK in raw-paste, and makes the banner name the modelled firmware.
//
// Owns: the bytes captured from the interpreter during a write, the last byte sent, a held
// '  File "' write, whether a board frame is being skipped, and the REPL's output switches
// (dropOK, suppressed) and banner sightings, which repl.mjs sets and reads through methods.

import { CR, LF, latin1 } from './ascii.mjs';
import { boardSourceName } from './boardpy.mjs';

const fileQuote = '  File "';
const emscriptenBanner = '; JS with Emscripten';
const bannerVersionPrefix = 'MicroPython v';
const simulatedBanner = '; Simulated ESP32 module (webrepl-kernel) with ESP32';
export const rawBanner = 'raw REPL; CTRL-B to exit\r\n';
const pasteBanner = 'paste mode; Ctrl-C to cancel, Ctrl-D to finish';

export class ConsoleOutput {
  // post: Outbox.post; execution: the Execution (banners are rewritten only while no code
  // runs); firmware: the modelled release, or ''.
  constructor({ post, execution, firmware }) {
    this.post = post;
    this.execution = execution;
    this.firmware = firmware;
    this.modelledBannerPrefix = bannerVersionPrefix + firmware;
    this.capture = []; // bytes the interpreter wrote during the current write() call
    this.lastByte = 0; // last byte sent, to recognise an LF that is already part of CRLF
    this.heldFileQuote = null; // a '  File "' write waiting to learn whether it starts a board frame
    this.skippingFrame = false; // inside a traceback line that points into the board's Python
    this.dropOK = false; // raw-paste: the interpreter's "OK" must not reach the client
    this.suppressed = false; // boot in raw mode: the friendly banner is not shown
    this.sawRawBanner = false;
    this.sawPasteBanner = false;
  }

  // captureByte collects one byte the interpreter writes (its stdout/stderr callback).
  captureByte(b) {
    this.capture.push(b);
  }

  // flushCapture sends what was captured during one write() of the interpreter, calling
  // beforeWrite first (a poll point) when there is something.
  flushCapture(beforeWrite) {
    if (this.capture.length === 0) return;
    const bytes = Uint8Array.from(this.capture);
    this.capture.length = 0;
    beforeWrite();
    this.write(bytes);
  }

  // emit sends one console write, cooked like mp_hal_stdout_tx_strn_cooked: every bare LF
  // becomes its own CRLF write.
  emit(bytes) {
    if (bytes.length === 0) return;
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== LF) continue;
      const prev = i > 0 ? bytes[i - 1] : this.lastByte;
      if (prev === CR) continue;
      if (i > start) this.post('o', bytes.slice(start, i));
      this.post('o', Uint8Array.of(CR, LF));
      start = i + 1;
    }
    if (start < bytes.length) this.post('o', start === 0 ? bytes : bytes.slice(start));
    this.lastByte = bytes[bytes.length - 1];
  }

  emitText(s) {
    this.emit(latin1(s));
  }

  write(bytes) {
    if (this.suppressed || bytes.length === 0) return;
    const text = bytes.length <= 64 ? Buffer.from(bytes).toString('latin1') : null;
    if (this.skippingFrame) {
      if (bytes.includes(LF)) this.skippingFrame = false;
      return;
    }
    if (this.heldFileQuote !== null) {
      const held = this.heldFileQuote;
      this.heldFileQuote = null;
      if (text === boardSourceName) {
        this.skippingFrame = true;
        return;
      }
      this.emit(held);
    }
    if (text === fileQuote) {
      this.heldFileQuote = bytes;
      return;
    }
    if (this.dropOK && text === 'OK') {
      this.dropOK = false;
      return;
    }
    if (!this.execution.executing) {
      if (text !== null && this.firmware && text.startsWith(bannerVersionPrefix) && !text.startsWith(this.modelledBannerPrefix)) {
        // The banner names the modelled release, not the interpreter's own (Options.Firmware).
        this.emitText(this.modelledBannerPrefix + text.slice(text.indexOf(' ', bannerVersionPrefix.length)));
        return;
      }
      if (text === emscriptenBanner) {
        this.emitText(simulatedBanner);
        return;
      }
      if (text === rawBanner) this.sawRawBanner = true;
      if (text !== null && text.includes(pasteBanner)) this.sawPasteBanner = true;
    }
    this.emit(bytes);
  }

  // release sends a held '  File "' write and ends frame skipping: called whenever the
  // interpreter is done writing for now.
  release() {
    if (this.heldFileQuote !== null) {
      const held = this.heldFileQuote;
      this.heldFileQuote = null;
      this.emit(held);
    }
    this.skippingFrame = false;
  }

  // setDropOK makes the next "OK" the interpreter writes disappear (raw-paste), or not.
  setDropOK(on) {
    this.dropOK = on;
  }

  // setSuppressed hides all output (a raw-mode boot hides the friendly banner), or not.
  setSuppressed(on) {
    this.suppressed = on;
  }

  // watchBanners forgets the banners seen so far; sawRawBanner and sawPasteBanner then
  // tell whether the REPL entered raw or paste mode since.
  watchBanners() {
    this.sawRawBanner = false;
    this.sawPasteBanner = false;
  }
}
