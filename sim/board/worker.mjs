// The board itself: MicroPython's WebAssembly port plus the parts of an ESP32 the port lacks.
//
// Runs in a worker thread so it may block: the REPL loop waits on the shared stdin ring with
// Atomics.wait, and input()/sys.stdin block the same way. Everything the board prints leaves
// at once, in order, through a shared outbox that main.mjs drains.
//
// The port already contains MicroPython's real event-driven REPL (friendly and raw). This
// layer sits in front of it and adds what the port cannot do because it has no console
// input: raw-paste flow control, input(), sys.stdin, Ctrl-C while code runs. It also cooks
// output like an ESP32 (bare LF → CRLF, one write per line piece), mirrors the flash
// directory, and provides the machine/network modules (boardlib.mjs).

import { workerData, parentPort } from 'node:worker_threads';
import fs from 'node:fs';
import path from 'node:path';
import { RING, openRing, ringUsed, outboxCapacity } from './ring.mjs';
import { sharedMemoryModule } from './wasmshare.mjs';
import { boardLibSource, boardSourceName, machineSource, networkSource, extraModules } from './boardlib.mjs';

const CTRL_A = 0x01;
const CTRL_B = 0x02;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_E = 0x05;
const LF = 0x0a;
const CR = 0x0d;

const rawPasteWindow = 128; // MICROPY_REPL_STDIN_BUFFER_MAX / 2 on ESP32
// Compiling the whole prefix at every pause would be quadratic for large programs, so the
// early-end syntax check runs again only once a quarter of what it would compile is new.
const syntaxCheckGrowth = 4;
// time.sleep in the port busy-waits on Date.now. After this many calls within one
// millisecond the worker sleeps for a millisecond instead, so a sleeping board does not
// burn a whole CPU core; Ctrl-C still wakes it at once.
const busyWaitCallsPerMs = 500;

const flashMount = '/flash'; // where the board's flash lives inside Emscripten's MEMFS

const { sab, outboxSab, capacity, fsDir, raw: bootRaw, noRawPaste, micropythonURL, firmware, vmHook } = workerData;
const { ctl, data, size: slots } = openRing(sab, capacity);
let tail = Atomics.load(ctl, RING.TAIL);

const enc = new TextEncoder();
const latin1 = (s) => Buffer.from(s, 'latin1');

function log(message) {
  fs.writeSync(2, `sim/board: ${message}\n`);
}

// ---------------------------------------------------------------------------------------
// Messages to main.mjs: each one is framed straight into the shared outbox, so it reaches
// the Go side while the interpreter runs on, even in a loop that never calls out again.

const outbox = openRing(outboxSab, outboxCapacity);
let outHead = Atomics.load(outbox.ctl, RING.HEAD);
// A console write larger than this leaves as several `o` messages, so that one frame always
// fits the outbox; only a single print of a huge string is affected.
const maxOutPayload = 64 * 1024;
const frameHeader = new Uint8Array(5);
const frameHeaderView = new DataView(frameHeader.buffer);

function outboxPut(bytes) {
  const first = Math.min(bytes.length, outbox.size - outHead);
  outbox.data.set(first === bytes.length ? bytes : bytes.subarray(0, first), outHead);
  if (first < bytes.length) outbox.data.set(bytes.subarray(first), 0);
  outHead = (outHead + bytes.length) % outbox.size;
}

// waitForOutboxRoom blocks while the Go side is not reading: the board waits in print().
function waitForOutboxRoom(need) {
  for (;;) {
    const tail = Atomics.load(outbox.ctl, RING.TAIL);
    if (outbox.capacity - ringUsed(outbox, outHead, tail) >= need) return;
    Atomics.wait(outbox.ctl, RING.TAIL, tail, 100);
  }
}

function post(type, payload) {
  const bytes = payload === undefined ? new Uint8Array(0) : payload;
  if (bytes.length > maxOutPayload) {
    for (let i = 0; i < bytes.length; i += maxOutPayload) post(type, bytes.subarray(i, i + maxOutPayload));
    return;
  }
  waitForOutboxRoom(frameHeader.length + bytes.length);
  frameHeader[0] = type.charCodeAt(0);
  frameHeaderView.setUint32(1, bytes.length);
  outboxPut(frameHeader);
  outboxPut(bytes);
  // Only whole frames are published.
  Atomics.store(outbox.ctl, RING.HEAD, outHead);
  Atomics.notify(outbox.ctl, RING.HEAD);
}

// ---------------------------------------------------------------------------------------
// Console input from the shared ring.

function available() {
  return (Atomics.load(ctl, RING.HEAD) - tail + slots) % slots;
}

// takeByte returns the next console byte, or -1 after waitMs without input.
function takeByte(waitMs) {
  for (;;) {
    const head = Atomics.load(ctl, RING.HEAD);
    if (head !== tail) {
      const b = data[tail];
      tail = (tail + 1) % slots;
      Atomics.store(ctl, RING.TAIL, tail);
      return b;
    }
    if (waitMs === 0) return -1;
    if (Atomics.wait(ctl, RING.HEAD, head, waitMs) === 'timed-out') return -1;
  }
}

// ---------------------------------------------------------------------------------------
// Execution state and Ctrl-C.

let mp; // the loaded interpreter
let M; // its Emscripten module
let executing = false;
// A friendly-REPL Ctrl-C that arrived while an Enter was being handled that did not run
// code (a continuation line). It belongs after the input already queued behind that Enter.
let deferredCtrlC = false;

function beginExec() {
  Atomics.store(ctl, RING.INTR, 0); // a Ctrl-C from before this execution is stale
  Atomics.store(ctl, RING.EXEC, 1);
  executing = true;
  if (deferredCtrlC || takeQueuedCtrlC()) Atomics.store(ctl, RING.INTR, 1);
  deferredCtrlC = false;
  post('b', Uint8Array.of(1)); // the Go side times Ctrl-C against this
}

// takeQueuedCtrlC takes a Ctrl-C that is the next byte waiting when code starts: it came
// in the same burst as the input that started the code, and on a board it would still sit
// in the socket and become a KeyboardInterrupt at the first poll. A Ctrl-C behind other
// queued bytes belongs to those bytes and is left alone.
function takeQueuedCtrlC() {
  if (Atomics.load(ctl, RING.HEAD) === tail || data[tail] !== CTRL_C) return false;
  tail = (tail + 1) % slots;
  Atomics.store(ctl, RING.TAIL, tail);
  return true;
}

// endExec reports whether a Ctrl-C arrived that no running code consumed.
function endExec() {
  executing = false;
  Atomics.store(ctl, RING.EXEC, 0);
  post('b', Uint8Array.of(0));
  const intr = Atomics.exchange(ctl, RING.INTR, 0);
  // 2: the VM hook scheduled it; pyexec raises what is pending before it returns, so it
  // was consumed, unless it came too late for that (then it acts at the prompt).
  if (intr === 2) return clearVMInterrupt();
  return intr === 1;
}

function interruptArmed() {
  return M._mp_hal_get_interrupt_char() === CTRL_C;
}

// pollInterrupt is called at the board's poll points (sleep ticks, console writes, console
// reads). It turns a pending Ctrl-C into a scheduled KeyboardInterrupt, which the VM
// raises at its next check.
function pollInterrupt() {
  if (!executing) return false;
  const intr = Atomics.load(ctl, RING.INTR);
  if (intr === 2) {
    // The VM hook already scheduled it (main.mjs): the VM raises it at its next jump.
    Atomics.store(ctl, RING.INTR, 0);
    return true;
  }
  if (intr === 0 || !interruptArmed()) return false;
  Atomics.store(ctl, RING.INTR, 0);
  M._mp_sched_keyboard_interrupt();
  return true;
}

// A control word nobody notifies: waiting on it is a plain timed sleep.
const quietWord = RING.WORDS - 1;

// boardSleep is the board's time.sleep: it waits up to ms milliseconds and returns the
// milliseconds still left, which is more than 0 when a Ctrl-C cut the sleep short. The
// KeyboardInterrupt is then scheduled, and the Python caller's loop jumps back at once,
// where the VM raises it inside the sleep call, as MICROPY_EVENT_POLL_HOOK does on a board.
// The port's own sleep busy-waits in C to its end, so the interrupt surfaced only at a
// later jump, often after the enclosing try had already been left.
function boardSleep(ms) {
  const deadline = performance.now() + Number(ms);
  for (;;) {
    const left = deadline - performance.now();
    if (pollInterrupt()) return Math.max(left, Number.MIN_VALUE);
    if (left <= 0) return 0;
    // A Ctrl-C that micropython.kbd_intr(-1) made an ordinary byte leaves INTR set but
    // must not end the sleep.
    const word = Atomics.load(ctl, RING.INTR) === 0 ? RING.INTR : quietWord;
    Atomics.wait(ctl, word, 0, left);
  }
}

// takeInterrupt takes a Ctrl-C for a reader that raises KeyboardInterrupt itself (input()),
// so one the VM hook scheduled as well is withdrawn: one Ctrl-C, one KeyboardInterrupt.
function takeInterrupt() {
  if (!executing) return false;
  const intr = Atomics.exchange(ctl, RING.INTR, 0);
  if (intr === 2) clearVMInterrupt();
  return intr !== 0;
}

const realNow = Date.now;
let nowValue = 0;
let nowCalls = 0;
Date.now = function boardNow() {
  pollInterrupt();
  const v = realNow();
  if (v !== nowValue) {
    nowValue = v;
    nowCalls = 0;
  } else if (++nowCalls > busyWaitCallsPerMs) {
    nowCalls = 0;
    Atomics.wait(ctl, RING.INTR, 0, 1);
  }
  return v;
};

// ---------------------------------------------------------------------------------------
// Console output: everything the board prints passes through consoleWrite.

const out = {
  capture: [], // bytes the interpreter wrote during the current write() call
  lastByte: 0, // last byte sent, to recognise an LF that is already part of CRLF
  heldFileQuote: null, // a '  File "' write waiting to learn whether it starts a board frame
  skippingFrame: false, // inside a traceback line that points into boardlib
  dropOK: false, // raw-paste: the interpreter's "OK" must not reach the client
  suppress: false, // boot in raw mode: the friendly banner is not shown
  sawRawBanner: false,
  sawPasteBanner: false,
};

const fileQuote = '  File "';
const emscriptenBanner = '; JS with Emscripten';
const bannerVersionPrefix = 'MicroPython v';
const modelledBannerPrefix = bannerVersionPrefix + firmware;
const simulatedBanner = '; Simulated ESP32 module (webrepl-kernel) with ESP32';
const rawBanner = 'raw REPL; CTRL-B to exit\r\n';
const pasteBanner = 'paste mode; Ctrl-C to cancel, Ctrl-D to finish';

// emit sends one console write, cooked like mp_hal_stdout_tx_strn_cooked: every bare LF
// becomes its own CRLF write.
function emit(bytes) {
  if (bytes.length === 0) return;
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    const prev = i > 0 ? bytes[i - 1] : out.lastByte;
    if (prev === CR) continue;
    if (i > start) post('o', bytes.slice(start, i));
    post('o', Uint8Array.of(CR, LF));
    start = i + 1;
  }
  if (start < bytes.length) post('o', start === 0 ? bytes : bytes.slice(start));
  out.lastByte = bytes[bytes.length - 1];
}

function emitText(s) {
  emit(latin1(s));
}

function consoleWrite(bytes) {
  if (out.suppress || bytes.length === 0) return;
  const text = bytes.length <= 64 ? Buffer.from(bytes).toString('latin1') : null;
  // Traceback lines pointing into boardlib: on a real board these functions are C code
  // and leave no frame, so the simulator's Python implementation must not show one either.
  if (out.skippingFrame) {
    if (bytes.includes(LF)) out.skippingFrame = false;
    return;
  }
  if (out.heldFileQuote !== null) {
    const held = out.heldFileQuote;
    out.heldFileQuote = null;
    if (text === boardSourceName) {
      out.skippingFrame = true;
      return;
    }
    emit(held);
  }
  if (text === fileQuote) {
    out.heldFileQuote = bytes;
    return;
  }
  if (out.dropOK && text === 'OK') {
    out.dropOK = false;
    return;
  }
  if (!executing) {
    if (text !== null && firmware && text.startsWith(bannerVersionPrefix) && !text.startsWith(modelledBannerPrefix)) {
      // The banner names the modelled release, not the interpreter's own (Options.Firmware).
      emitText(modelledBannerPrefix + text.slice(text.indexOf(' ', bannerVersionPrefix.length)));
      return;
    }
    if (text === emscriptenBanner) {
      emitText(simulatedBanner);
      return;
    }
    if (text === rawBanner) out.sawRawBanner = true;
    if (text !== null && text.includes(pasteBanner)) out.sawPasteBanner = true;
  }
  emit(bytes);
}

function releaseHeldOutput() {
  if (out.heldFileQuote !== null) {
    const held = out.heldFileQuote;
    out.heldFileQuote = null;
    emit(held);
  }
  out.skippingFrame = false;
}

// ---------------------------------------------------------------------------------------
// input() and sys.stdin.

let swallowLF = false; // a CR ended the last input line; a following LF belongs to it

// consoleReadline is the board's readline for input(): echoes what is typed, ends at CR or
// LF with "\r\n". Returns the line, null for Ctrl-C, or -1 for Ctrl-D on an empty line.
function consoleReadline() {
  const line = [];
  let escape = 0;
  for (;;) {
    if (takeInterrupt()) return null;
    const b = takeByte(50);
    if (b < 0) continue;
    if (swallowLF) {
      swallowLF = false;
      if (b === LF) continue;
    }
    if (escape > 0) {
      // Skip cursor-key escape sequences (ESC [ x); a notebook never sends them.
      escape = escape === 1 && b === 0x5b ? 2 : 0;
      continue;
    }
    if (b === CR || b === LF) {
      swallowLF = b === CR;
      consoleWrite(latin1('\r\n'));
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
        consoleWrite(latin1('\b \b'));
      }
      continue;
    }
    if (b === 0x1b) {
      escape = 1;
      continue;
    }
    if (b < 0x20 && b !== 0x09) continue;
    line.push(b);
    consoleWrite(Uint8Array.of(b));
  }
}

// readConsole serves reads of fd 0 (sys.stdin): raw bytes, no echo, like the board's
// stdin stream. A Ctrl-C raises KeyboardInterrupt through EINTR, so the traceback is the
// caller's, exactly as on a board.
function readConsole(FS, buffer, offset, length) {
  if (length === 0) return 0;
  for (;;) {
    if (executing && Atomics.load(ctl, RING.INTR) === 2) {
      Atomics.store(ctl, RING.INTR, 0);
      throw new FS.ErrnoError(27); // the VM hook scheduled the KeyboardInterrupt
    }
    if (executing && Atomics.load(ctl, RING.INTR) === 1) {
      Atomics.store(ctl, RING.INTR, 0);
      if (!interruptArmed()) {
        // micropython.kbd_intr(-1): the program reads Ctrl-C as an ordinary byte.
        buffer[offset] = CTRL_C;
        return 1;
      }
      M._mp_sched_keyboard_interrupt();
      throw new FS.ErrnoError(27); // EINTR: MicroPython handles pending events and retries
    }
    const b = takeByte(50);
    if (b < 0) continue;
    if (swallowLF) swallowLF = false;
    buffer[offset] = b;
    let n = 1;
    while (n < length) {
      const more = takeByte(0);
      if (more < 0) break;
      buffer[offset + n++] = more;
    }
    return n;
  }
}

// ---------------------------------------------------------------------------------------
// Flash: MEMFS at /flash (mounted as / for Python) mirrored to fsDir both ways.

const flash = {
  known: new Map(), // rel path → { dir, mtimeMs, size } as last synchronised
  syncing: false, // true while the worker itself changes MEMFS (no write-through)
};

function hostPathFor(rel) {
  const host = path.resolve(fsDir, rel);
  if (host !== fsDir && !host.startsWith(fsDir + path.sep)) return null;
  return host;
}

// memAbsolute resolves a MEMFS path the way Emscripten does: relative to its cwd (the
// port passes paths like "logs" through unchanged after os.chdir).
function memAbsolute(memPath) {
  return path.posix.resolve(mp.FS.cwd(), memPath);
}

// relOf maps a MEMFS path to a path relative to the flash root, or null outside it.
function relOf(memPath) {
  if (typeof memPath !== 'string') return null;
  const p = memAbsolute(memPath);
  if (!p.startsWith(flashMount + '/')) return null;
  const rel = p.slice(flashMount.length + 1);
  return rel === '' || hostPathFor(rel) === null ? null : rel;
}

function insideFlash(hostPath) {
  return hostPath === fsDir || hostPath.startsWith(fsDir + path.sep);
}

// safeHostTarget returns the host path for rel if writing there cannot leave fsDir
// through a symbolic link (the board never makes links, but DIR is shared with the host).
function safeHostTarget(rel) {
  const host = hostPathFor(rel);
  if (host === null) return null;
  let existing = path.dirname(host);
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  try {
    if (!insideFlash(fs.realpathSync(existing))) return null;
  } catch {
    return null;
  }
  try {
    if (fs.lstatSync(host).isSymbolicLink()) return null;
  } catch {
    // does not exist yet
  }
  return host;
}

function remember(rel, host) {
  try {
    const st = fs.statSync(host);
    flash.known.set(rel, { dir: st.isDirectory(), mtimeMs: st.mtimeMs, size: st.size });
  } catch {
    flash.known.delete(rel);
  }
}

function forgetTree(rel) {
  for (const key of [...flash.known.keys()]) {
    if (key === rel || key.startsWith(rel + '/')) flash.known.delete(key);
  }
}

// mirror applies one change to fsDir. A failure is logged and reported to the program as
// an I/O error (EIO), like a flash write that failed on a board: nothing is lost silently.
function mirror(what, rel, action) {
  try {
    action();
    return true;
  } catch (err) {
    log(`flash: could not ${what} ${rel} in ${fsDir}: ${err.message}`);
    return false;
  }
}

const EIO = 29; // Emscripten's number; translated to 5 on the way into the interpreter

// writeThrough copies a file the board just wrote to fsDir; false if that failed.
function writeThrough(FS, memPath) {
  const rel = relOf(memPath);
  if (rel === null) return true;
  const host = safeHostTarget(rel);
  if (host === null) {
    log(`flash: refusing to write ${rel}: it would leave ${fsDir}`);
    return false;
  }
  return mirror('write', rel, () => {
    const content = FS.readFile(memAbsolute(memPath));
    fs.mkdirSync(path.dirname(host), { recursive: true });
    fs.writeFileSync(host, content);
    remember(rel, host);
  });
}

function memExists(FS, memPath) {
  return FS.analyzePath(memPath).exists;
}

function memMkdirs(FS, memDir) {
  const parts = memDir.split('/').filter(Boolean);
  let cur = '';
  for (const part of parts) {
    cur += '/' + part;
    if (!memExists(FS, cur)) FS.mkdir(cur);
  }
}

function memRemoveTree(FS, memPath) {
  const st = FS.stat(memPath);
  if (FS.isDir(st.mode)) {
    for (const name of FS.readdir(memPath)) {
      if (name !== '.' && name !== '..') memRemoveTree(FS, memPath + '/' + name);
    }
    FS.rmdir(memPath);
  } else {
    FS.unlink(memPath);
  }
}

// The Go side's WebREPL PUT writes into a file with this name prefix beside the target and
// renames it when complete; the board must never load such a half-written file.
const putTempPrefix = '.webrepl-put-';

function insidePutTemp(rel) {
  return rel.split('/').some((name) => name.startsWith(putTempPrefix));
}

// walkHost lists fsDir (relative paths, directories before their contents). Symbolic links
// and special files are skipped: the board's flash holds only files and folders. So are
// PUT temporaries.
function walkHost() {
  const entries = [];
  const visit = (relDir) => {
    let names;
    try {
      names = fs.readdirSync(relDir ? path.join(fsDir, relDir) : fsDir);
    } catch (err) {
      log(`flash: cannot list ${relDir || '.'} in ${fsDir}: ${err.message}`);
      return;
    }
    names.sort();
    for (const name of names) {
      if (name.startsWith(putTempPrefix)) continue;
      const rel = relDir ? relDir + '/' + name : name;
      let st;
      try {
        st = fs.lstatSync(path.join(fsDir, rel));
      } catch {
        continue; // vanished meanwhile
      }
      if (st.isDirectory()) {
        entries.push({ rel, dir: true, st });
        visit(rel);
      } else if (st.isFile()) {
        entries.push({ rel, dir: false, st });
      }
    }
  };
  visit('');
  return entries;
}

// syncFromHost makes MEMFS match fsDir for everything that changed there since the board
// last looked (WebREPL PUT, a file dropped in by hand, a removal).
function syncFromHost(FS) {
  flash.syncing = true;
  try {
    const seen = new Set();
    for (const { rel, dir, st } of walkHost()) {
      seen.add(rel);
      const memPath = flashMount + '/' + rel;
      const known = flash.known.get(rel);
      if (dir) {
        if (!known || !known.dir || !memExists(FS, memPath)) {
          mirror('load folder', rel, () => {
            if (memExists(FS, memPath) && !FS.isDir(FS.stat(memPath).mode)) FS.unlink(memPath);
            memMkdirs(FS, memPath);
          });
          flash.known.set(rel, { dir: true, mtimeMs: st.mtimeMs, size: st.size });
        }
        continue;
      }
      if (known && !known.dir && known.mtimeMs === st.mtimeMs && known.size === st.size && memExists(FS, memPath)) {
        continue;
      }
      mirror('load', rel, () => {
        const content = fs.readFileSync(path.join(fsDir, rel));
        if (memExists(FS, memPath) && FS.isDir(FS.stat(memPath).mode)) memRemoveTree(FS, memPath);
        memMkdirs(FS, path.posix.dirname(memPath));
        FS.writeFile(memPath, content);
        flash.known.set(rel, { dir: false, mtimeMs: st.mtimeMs, size: st.size });
      });
    }
    // Deepest first, so folders are empty when their turn comes.
    // A file the board itself named like a PUT temporary is not listed above, yet is no
    // less there: it stays.
    const gone = [...flash.known.keys()].filter((rel) => !seen.has(rel) && !insidePutTemp(rel)).sort().reverse();
    for (const rel of gone) {
      const memPath = flashMount + '/' + rel;
      mirror('remove', rel, () => {
        if (memExists(FS, memPath)) memRemoveTree(FS, memPath);
      });
      forgetTree(rel);
    }
  } finally {
    flash.syncing = false;
  }
}

function installFlashHooks(FS) {
  const { close, unlink, rmdir, mkdir, rename } = FS;
  const check = (ok) => {
    if (!ok) throw new FS.ErrnoError(EIO);
  };
  // hostTargetFor returns the host path a MEMFS change must be mirrored to, null when the
  // path is outside the flash, or throws EIO when it cannot be mirrored safely.
  const hostTargetFor = (memPath) => {
    const rel = flash.syncing ? null : relOf(memPath);
    if (rel === null) return null;
    const host = safeHostTarget(rel);
    if (host === null) {
      log(`flash: refusing to change ${rel}: it would leave ${fsDir}`);
      throw new FS.ErrnoError(EIO);
    }
    return { rel, host };
  };
  FS.close = function boardClose(stream) {
    const memPath = stream.path;
    const wrote = (stream.flags & 3) !== 0; // O_WRONLY | O_RDWR
    const result = close.apply(this, arguments);
    if (wrote && !flash.syncing) check(writeThrough(FS, memPath));
    return result;
  };
  FS.unlink = function boardUnlink(memPath) {
    const target = hostTargetFor(memPath);
    const result = unlink.apply(this, arguments);
    if (target) {
      flash.known.delete(target.rel);
      check(mirror('remove', target.rel, () => fs.rmSync(target.host, { force: true })));
    }
    return result;
  };
  FS.rmdir = function boardRmdir(memPath) {
    const target = hostTargetFor(memPath);
    const result = rmdir.apply(this, arguments);
    if (target) {
      forgetTree(target.rel);
      check(mirror('remove folder', target.rel, () => fs.rmSync(target.host, { recursive: true, force: true })));
    }
    return result;
  };
  FS.mkdir = function boardMkdir(memPath) {
    const target = hostTargetFor(memPath);
    const result = mkdir.apply(this, arguments);
    if (target) {
      check(
        mirror('create folder', target.rel, () => {
          fs.mkdirSync(target.host, { recursive: true });
          remember(target.rel, target.host);
        }),
      );
    }
    return result;
  };
  FS.rename = function boardRename(oldPath, newPath) {
    const from = hostTargetFor(oldPath);
    const to = hostTargetFor(newPath);
    const result = rename.apply(this, arguments);
    if (from && to) {
      forgetTree(from.rel);
      forgetTree(to.rel);
      check(
        mirror('rename', from.rel, () => {
          fs.mkdirSync(path.dirname(to.host), { recursive: true });
          fs.renameSync(from.host, to.host);
          // Re-learn the moved tree so the next sync sees no change.
          for (const { rel } of walkHost()) {
            if (rel === to.rel || rel.startsWith(to.rel + '/')) remember(rel, path.join(fsDir, rel));
          }
        }),
      );
    } else if (from) {
      forgetTree(from.rel);
      check(mirror('remove', from.rel, () => fs.rmSync(from.host, { recursive: true, force: true })));
    } else if (to) {
      const st = FS.stat(memAbsolute(newPath));
      if (!FS.isDir(st.mode)) check(writeThrough(FS, newPath));
    }
    return result;
  };
}

// ---------------------------------------------------------------------------------------
// Hooks into the interpreter's console.

function installConsoleHooks(FS) {
  const { write, read } = FS;
  FS.write = function boardWrite(stream) {
    const result = write.apply(this, arguments);
    if (out.capture.length > 0) {
      const bytes = Uint8Array.from(out.capture);
      out.capture.length = 0;
      pollInterrupt();
      consoleWrite(bytes);
    }
    return result;
  };
  FS.read = function boardRead(stream, buffer, offset, length) {
    if (stream.fd === 0 || stream.path === '/dev/stdin') return readConsole(FS, buffer, offset, length);
    return read.apply(this, arguments);
  };
}

// ---------------------------------------------------------------------------------------
// The JS side of boardlib (the `_board` module).

let syntaxErrorLine = null; // Python function(src) -> line of the SyntaxError, or 0
let runBootFile = null; // Python function(path, globals) -> 0 ran, 1 raised, 2 SystemExit
// machine.Timer while the REPL waits: Python functions returning ms to the next timer (-1: none).
const timers = { runIdle: null, nextIn: null };

// idleWait is how long the REPL may wait for input before a timer is due (Infinity if none).
function idleWait() {
  if (!timers.nextIn) return Infinity;
  const ms = timers.nextIn();
  return ms < 0 ? Infinity : Math.max(ms, 1);
}

function halt(type) {
  releaseHeldOutput();
  post(type);
  // The Go side now replaces this process; nothing more may run on this board.
  for (;;) Atomics.wait(ctl, quietWord, 0);
}

const boardJS = {
  // Set by the Go side from the profile; os.uname() reports it (boardlib.mjs).
  port: process.env.WEBREPL_SIM_PORT || 'esp32',
  // The modelled release (main.mjs --firmware); sys.implementation and os.uname report it.
  version: firmware || '',
  libsource: boardLibSource,
  machine_source: machineSource,
  network_source: networkSource,
  extra_modules: JSON.stringify(extraModules),
  source_name: boardSourceName,
  readline: () => consoleReadline(),
  sleep_ms: (ms) => boardSleep(ms),
  peripheral: (json) => post('p', enc.encode(String(json))),
  hard_reset: () => halt('h'),
  set_syntax_checker: (fn) => {
    syntaxErrorLine = fn;
  },
  set_boot_runner: (fn) => {
    runBootFile = fn;
  },
  set_timer_hooks: (runIdle, nextIn) => {
    timers.runIdle = runIdle;
    timers.nextIn = nextIn;
  },
};

// ---------------------------------------------------------------------------------------
// The REPL layer.

let mode = 'friendly';
let rawLine = []; // raw-REPL input not yet submitted (mirrors pyexec's line buffer)

function feed(b) {
  return M._mp_js_repl_process_char(b);
}

function softReset() {
  halt('s');
}

// runRawSubmission hands a program to the interpreter's raw REPL and runs it.
function runRawSubmission(bytes, dropOK) {
  syncFromHost(mp.FS);
  for (const b of bytes) feed(b);
  out.dropOK = dropOK;
  beginExec();
  const ret = feed(CTRL_D);
  endExec();
  out.dropOK = false;
  releaseHeldOutput();
  if (ret !== 0) softReset();
}

function rawByte(b) {
  switch (b) {
    case CTRL_A:
      // Firmware before raw-paste (MicroPython < 1.13) has no such escape: Ctrl-A just
      // restarts the raw REPL, and the client falls back to pacing.
      if (rawLine.length === 2 && rawLine[0] === CTRL_E && !noRawPaste) {
        const command = rawLine[1];
        rawLine = [];
        if (command === 0x41) {
          rawPaste();
        } else {
          emitText('R\x00');
          emitText('>');
        }
        return;
      }
      rawLine = [];
      feed(CTRL_A); // the interpreter prints "raw REPL; CTRL-B to exit\r\n>"
      return;
    case CTRL_B:
      rawLine = [];
      feed(CTRL_B);
      mode = 'friendly';
      friendly.lastByte = -1;
      friendly.pasteMode = false;
      return;
    case CTRL_C:
      rawLine = [];
      return;
    case CTRL_D: {
      if (rawLine.length === 0) {
        if (feed(CTRL_D) !== 0) softReset();
        return;
      }
      const program = rawLine;
      rawLine = [];
      runRawSubmission(program, false);
      return;
    }
    default:
      rawLine.push(b);
  }
}

// earlySyntaxError reports whether the program received so far already has a syntax
// error that no further input could repair.
function earlySyntaxError(program, completeLines) {
  if (!syntaxErrorLine) return false;
  const src = Buffer.from(program).toString('utf8');
  try {
    const line = syntaxErrorLine(src);
    // Running out of input (an open bracket, a backslash continuation, a block still
    // without a body) is reported on the line after the last one, so an error on a
    // received line, the last included, is the board's own parser failing there.
    if (!(line > 0 && line <= completeLines)) return false;
    // An unterminated string (triple-quoted, or continued with a backslash) is reported at
    // its first line, yet more input would close it: only an error that stays put when
    // such a string is closed is final.
    for (const closer of ['"""\n', "'''\n", '"\n', "'\n"]) {
      if (syntaxErrorLine(src + closer) !== line) return false;
    }
    return true;
  } catch (err) {
    log(`raw-paste syntax check failed: ${err.message}`);
    return false;
  }
}

// rawPaste runs the device side of raw-paste mode (docs/protocol/webrepl.md §4).
function rawPaste() {
  emitText('R\x01');
  emit(Uint8Array.of(rawPasteWindow & 0xff, rawPasteWindow >> 8, 0x01));
  // How the host uses its credit, reported to the Go side (Board.RawPasteCredit): the window
  // plus the 0x01 above, then one window per 0x01 sent below. Whenever a byte is taken, the
  // program bytes that have arrived so far are compared with the credit granted so far; a
  // host that sends beyond its credit shows up as a positive excess (bytes that already
  // wait in the ring when the board takes one arrived no later than now).
  let granted = 2 * rawPasteWindow;
  let maxExcess = -Infinity;
  const report = () => {
    if (maxExcess !== -Infinity) post('c', enc.encode(JSON.stringify({ maxExcess })));
  };
  const program = [];
  let completeLines = 0;
  let checkedLines = 0;
  let checkedBytes = 0;
  let prefixEnd = 0; // program[0:prefixEnd] are the complete lines received so far
  let endedEarly = false;
  for (;;) {
    const b = takeByte(Infinity);
    if (b !== CTRL_D && b !== CTRL_C && !endedEarly) {
      // The end marker (0x04) after the program needs no credit; programs never hold one.
      let waiting = available();
      const head = Atomics.load(ctl, RING.HEAD);
      if (waiting > 0 && data[(head - 1 + slots) % slots] === CTRL_D) waiting--;
      maxExcess = Math.max(maxExcess, program.length + 1 + waiting - granted);
    }
    if (endedEarly) {
      if (b === CTRL_D || b === CTRL_C) break;
      continue;
    }
    if (b === CTRL_D) {
      emitText('\x04');
      break;
    }
    if (b === CTRL_C) {
      // The reader raises the preallocated KeyboardInterrupt, which has no traceback.
      emitText('\x04');
      emitText('\x04');
      emitText('KeyboardInterrupt: ');
      emitText('\r\n');
      emitText('\x04');
      emitText('>');
      report();
      return;
    }
    program.push(b);
    if (program.length % rawPasteWindow === 0) {
      emit(Uint8Array.of(0x01));
      granted += rawPasteWindow;
    }
    if (b === LF) {
      completeLines++;
      prefixEnd = program.length;
    }
    // The board's compiler notices a syntax error while the host is still sending. Here
    // the received lines are compiled when the host pauses (waiting for credit or done),
    // and rarely enough that the total work stays a small multiple of the program size.
    if (
      completeLines > checkedLines &&
      available() === 0 &&
      (prefixEnd - checkedBytes) * syntaxCheckGrowth >= prefixEnd
    ) {
      checkedLines = completeLines;
      checkedBytes = prefixEnd;
      if (earlySyntaxError(program.slice(0, prefixEnd), completeLines)) {
        emitText('\x04');
        endedEarly = true;
        program.length = prefixEnd;
      }
    }
  }
  report();
  if (program.length === 0) {
    emitText('\x04');
    emitText('\x04');
    emitText('>');
    return;
  }
  // Ctrl-A/Ctrl-B would act on the raw REPL; as escapes they keep their meaning inside
  // string literals and stay syntax errors elsewhere, as on a board.
  const submission = [];
  for (const b of program) {
    if (b === CTRL_A || b === CTRL_B) submission.push(...latin1(b === CTRL_A ? '\\x01' : '\\x02'));
    else submission.push(b);
  }
  runRawSubmission(submission, true);
}

// The port's readline ends a line only at CR and ignores LF, while a board's console is
// fed by clients that send LF or CRLF line ends (the LF of a WebREPL login "secret\r\n"
// reaches readline on its own). Enter is therefore CR or a lone LF; the LF of a CRLF pair
// is dropped (docs/protocol/webrepl.md §7.2). Friendly paste mode is left alone: there the port
// already keeps an LF as a line end of the pasted text, as a board does.
const friendly = {
  lastByte: -1, // the byte before the current one, to recognise the LF of a CRLF
  pasteMode: false, // inside Ctrl-E paste mode
};

function friendlyByte(input) {
  let b = input;
  const previous = friendly.lastByte;
  friendly.lastByte = input;
  const afterInputLine = swallowLF; // input() ended its line with CR: this LF is that line's
  swallowLF = false;
  if (b === LF && !friendly.pasteMode) {
    if (previous === CR || afterInputLine) return;
    b = CR;
  }
  const mayRun = b === CR || b === CTRL_D;
  if (mayRun) {
    syncFromHost(mp.FS);
    beginExec();
  }
  out.sawRawBanner = false;
  out.sawPasteBanner = false;
  let ret = feed(b);
  let leavesPaste = b === CTRL_C || b === CTRL_D;
  if (mayRun && endExec() && ret === 0) deferredCtrlC = true;
  if (deferredCtrlC && ret === 0 && available() === 0) {
    // Nothing else is queued: the unconsumed Ctrl-C acts at the prompt (clears the line).
    deferredCtrlC = false;
    ret = feed(CTRL_C);
    leavesPaste = true;
  }
  releaseHeldOutput();
  if (ret !== 0) softReset();
  if (out.sawPasteBanner) friendly.pasteMode = true;
  else if (leavesPaste) friendly.pasteMode = false;
  if (b === CTRL_A && out.sawRawBanner) {
    mode = 'raw';
    rawLine = [];
  }
}

// ---------------------------------------------------------------------------------------
// Imports of the WebAssembly module: errno numbering and a memory cap.
//
// Emscripten reports file-system errors with WASI numbers (ENOENT is 44), which
// MicroPython's errno table does not know, so a missing file would print "OSError: 44".
// An ESP32 (LittleFS, newlib) uses the Linux numbers. The numbers are translated where
// they cross into the interpreter: the return values of the port's syscall imports. EINTR
// stays as it is, because the port's libc compares against its own value for retries.
const wasiToLinuxErrno = new Map([
  [63, 1], // EPERM
  [44, 2], // ENOENT
  [29, 5], // EIO
  [8, 9], // EBADF
  [48, 12], // ENOMEM
  [2, 13], // EACCES
  [10, 16], // EBUSY
  [20, 17], // EEXIST
  [75, 18], // EXDEV
  [54, 20], // ENOTDIR
  [31, 21], // EISDIR
  [28, 22], // EINVAL
  [33, 24], // EMFILE
  [22, 27], // EFBIG
  [51, 28], // ENOSPC
  [70, 29], // ESPIPE
  [69, 30], // EROFS
  [37, 36], // ENAMETOOLONG
  [55, 39], // ENOTEMPTY
  [32, 40], // ELOOP
]);

// The port's heap grows on demand up to the 2 GiB WebAssembly limit, while an ESP32 raises
// MemoryError at about 100 KiB. Refusing growth makes the port's split heap misbehave, so
// a program that gets past this cap is treated like a crashed board: it resets.
const memoryCapBytes = 256 * 1024 * 1024;

function adaptImports(imports) {
  const translated = {};
  for (const [namespace, table] of Object.entries(imports)) {
    const copy = { ...table };
    for (const [name, fn] of Object.entries(table)) {
      if (typeof fn !== 'function') continue;
      if (name === 'emscripten_resize_heap') {
        copy[name] = function resizeWithinCap(requestedSize) {
          if (requestedSize >>> 0 > memoryCapBytes) {
            log(`the program needs more than ${memoryCapBytes >> 20} MiB of memory: resetting the board`);
            releaseHeldOutput();
            emitText(`\r\nsimulated board: out of memory (over ${memoryCapBytes >> 20} MiB), resetting\r\n`);
            halt('h');
          }
          return fn.call(this, requestedSize);
        };
      } else if (name.startsWith('__syscall_')) {
        copy[name] = function syscallWithLinuxErrno(...args) {
          const r = fn.apply(this, args);
          return typeof r === 'number' && r < 0 && wasiToLinuxErrno.has(-r) ? -wasiToLinuxErrno.get(-r) : r;
        };
      } else if (name.startsWith('fd_')) {
        copy[name] = function fdWithLinuxErrno(...args) {
          const r = fn.apply(this, args);
          return typeof r === 'number' && r > 0 && wasiToLinuxErrno.has(r) ? wasiToLinuxErrno.get(r) : r;
        };
      }
    }
    translated[namespace] = copy;
  }
  return translated;
}

// With --vm-hook the interpreter's memory is a shared one that main.mjs can write, so it can
// schedule a KeyboardInterrupt while the VM spins (wasmshare.mjs).
let sharedMemory = null;

function withAdaptedImports(load) {
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = (source, imports) => {
    if (vmHook && imports && !(source instanceof WebAssembly.Module)) {
      const shared = sharedMemoryModule(source);
      sharedMemory = new WebAssembly.Memory({ initial: shared.initial, maximum: shared.maximum, shared: true });
      imports = { ...imports, env: { ...imports.env, [shared.importName]: sharedMemory } };
      source = shared.bytes;
    }
    return instantiate(source, imports && adaptImports(imports));
  };
  if (instantiateStreaming) {
    WebAssembly.instantiateStreaming = vmHook
      ? () => Promise.reject(new Error('the VM hook needs the wasm bytes'))
      : (source, imports) => instantiateStreaming(source, imports && adaptImports(imports));
  }
  return load().finally(() => {
    WebAssembly.instantiate = instantiate;
    if (instantiateStreaming) WebAssembly.instantiateStreaming = instantiateStreaming;
  });
}

// ---------------------------------------------------------------------------------------
// The ESP8266 VM hook (--vm-hook).
//
// On an ESP8266 the VM calls the network stack between bytecodes (MICROPY_VM_HOOK_POLL,
// ports/esp8266/mpconfigport.h), so a Ctrl-C reaches mp_sched_keyboard_interrupt() even in
// `while True: pass`. The WebAssembly port has no such hook and this worker is busy inside
// the VM then, so main.mjs does what that function does, in the shared memory. Where its
// words live is learnt here once, by watching what the function itself changes.

let vmWords = null; // { pending, sched, kbd, interruptChar } byte addresses

function memoryWords() {
  return new Int32Array(sharedMemory.buffer);
}

function changedWords(before, after) {
  const changed = [];
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed.push({ addr: i * 4, was: before[i], now: after[i] });
  return changed;
}

function shareVMHook() {
  // A KeyboardInterrupt raised once leaves the preallocated exception with a traceback,
  // which mp_sched_keyboard_interrupt() then resets: that tells the exception's address.
  const raiseOnce = 'try:\n    for _ in range(2): pass\nexcept KeyboardInterrupt:\n    pass\n';
  M._mp_sched_keyboard_interrupt();
  mp.runPython(raiseOnce);
  const before = memoryWords().slice();
  M._mp_sched_keyboard_interrupt();
  const changed = changedWords(before, memoryWords());
  mp.runPython(raiseOnce); // the pending exception is consumed again
  // pending exception: NULL → &mp_kbd_exception, whose traceback_data (+8) went to NULL;
  // sched_state: MP_SCHED_IDLE (1) → MP_SCHED_PENDING (0).
  const pending = changed.find((w) => w.was === 0 && changed.some((t) => t.addr === w.now + 8 && t.now === 0 && t.was !== 0));
  const sched = changed.filter((w) => w.was === 1 && w.now === 0);
  // mp_interrupt_char: the word micropython.kbd_intr() sets.
  const original = M._mp_hal_get_interrupt_char();
  mp.runPython('import micropython\nmicropython.kbd_intr(65)');
  const at65 = memoryWords().slice();
  mp.runPython('micropython.kbd_intr(66)');
  // The argument may linger elsewhere (a stack slot): the word is the one the port's own
  // mp_hal_get_interrupt_char() reads.
  const words = memoryWords();
  const charWords = changedWords(at65, words).filter((w) => {
    if (w.was !== 65 || w.now !== 66) return false;
    words[w.addr >> 2] = 67;
    const reads = M._mp_hal_get_interrupt_char() === 67;
    words[w.addr >> 2] = 66;
    return reads;
  });
  mp.runPython(`micropython.kbd_intr(${original})\ndel micropython`);
  if (!pending || sched.length !== 1 || charWords.length !== 1) {
    log(`VM hook: the interpreter's interrupt state was not found (${changed.length} words changed); tight loops stay uninterruptible`);
    return;
  }
  vmWords = { pending: pending.addr, sched: sched[0].addr, kbd: pending.now, interruptChar: charWords[0].addr };
  parentPort.postMessage({ type: 'vm-hook', memory: sharedMemory.buffer, ...vmWords });
}

// clearVMInterrupt withdraws a KeyboardInterrupt main.mjs scheduled that has not been
// raised yet; it reports whether there was one.
function clearVMInterrupt() {
  if (!vmWords) return false;
  return Atomics.exchange(memoryWords(), vmWords.pending >> 2, 0) !== 0;
}

// ---------------------------------------------------------------------------------------
// Boot.

async function boot() {
  const t0 = performance.now();
  const { loadMicroPython } = await import(micropythonURL);
  mp = await withAdaptedImports(() =>
    loadMicroPython({
      stdout: (b) => out.capture.push(b[0]),
      stderr: (b) => out.capture.push(b[0]),
      stdin: () => null,
      linebuffer: false,
    }),
  );
  M = mp._module;
  const FS = mp.FS;
  installConsoleHooks(FS);

  flash.syncing = true;
  try {
    FS.mkdir(flashMount);
  } finally {
    flash.syncing = false;
  }
  syncFromHost(FS);
  installFlashHooks(FS);

  mp.registerJsModule('_board', boardJS);
  mp.runPython("import _board\nexec(compile(_board.libsource, '" + boardSourceName + "', 'exec'), {'__name__': '_boardlib'})\ndel _board");
  if (vmHook) shareVMHook();

  // Like the ESP32's main.c: boot.py, then main.py (not when the REPL is raw), then the
  // REPL with its banner. The Go side may accept a client as soon as B arrives, so with
  // start-up files B comes first: a client's Ctrl-C can then stop a main.py that loops.
  const bootFiles = ['boot.py', ...(bootRaw ? [] : ['main.py'])].filter((name) => memExists(FS, flashMount + '/' + name));
  if (bootFiles.length > 0) {
    post('B');
    for (const name of bootFiles) {
      beginExec();
      const ret = runBootFile(name, mp.globals.__dict__);
      endExec();
      releaseHeldOutput();
      if (ret === 2) softReset();
    }
  }
  // A board that soft-resets in raw mode goes straight to the raw REPL: no banner.
  out.suppress = bootRaw;
  mp.replInit(); // prints the friendly banner and ">>> "
  if (bootRaw) {
    feed(CTRL_A);
    out.suppress = false;
    emitText(rawBanner);
    emitText('>');
    mode = 'raw';
  }
  releaseHeldOutput();
  if (bootFiles.length === 0) post('B');
  log(`booted in ${Math.round(performance.now() - t0)} ms (${bootRaw ? 'raw' : 'friendly'} REPL, flash ${fsDir})`);
}

function serve() {
  for (;;) {
    const b = available() > 0 ? takeByte(0) : takeByte(idleWait());
    if (b < 0) {
      // A machine.Timer is due while the board sits at a prompt.
      timers.runIdle();
      releaseHeldOutput();
      continue;
    }
    if (mode === 'raw') rawByte(b);
    else friendlyByte(b);
  }
}

await boot();
serve();
