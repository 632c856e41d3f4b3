// The board itself: MicroPython's WebAssembly port plus the parts of an ESP32 the port lacks.
//
// Runs in a worker thread so it may block: the REPL loop waits on the shared stdin ring with
// Atomics.wait, and input()/sys.stdin block the same way. Everything the board prints leaves
// at once, in order, through a shared outbox that main.mjs drains.
//
// The port already contains MicroPython's real event-driven REPL (friendly and raw). The
// layer in front of it adds what the port cannot do because it has no console input. This
// file only wires its parts together, boots the board and serves console bytes; each part
// owns its own state:
//
//   input.mjs      the input ring's read side          outbox.mjs   messages to main.mjs
//   execution.mjs  executing, Ctrl-C, time.sleep       vmhook.mjs   the ESP8266 VM hook
//   output.mjs     console output (cooking, frames)    consolein.mjs input(), sys.stdin
//   flash.mjs      MEMFS ↔ the host folder             reset.mjs    soft and hard resets
//   repl.mjs       friendly/raw REPL (rawpaste.mjs)    interpreter.mjs loading the port
//   boardpy.mjs    the board's Python (py/) and its _board module
//
// Owns: nothing but the wiring below (built once, never reassigned).

import { workerData } from 'node:worker_threads';
import { InputRing } from './input.mjs';
import { Outbox } from './outbox.mjs';
import { Execution } from './execution.mjs';
import { VMHook } from './vmhook.mjs';
import { ConsoleOutput } from './output.mjs';
import { ConsoleInput } from './consolein.mjs';
import { Flash } from './flash.mjs';
import { Reset } from './reset.mjs';
import { Repl } from './repl.mjs';
import { BoardPython, readBoardSources } from './boardpy.mjs';
import { loadInterpreter, memoryCapBytes } from './interpreter.mjs';
import { log } from './log.mjs';

const { sab, outboxSab, capacity, fsDir, raw: bootRaw, noRawPaste, micropythonURL, firmware, vmHook: vmHookOn, wifi, webreplOff } = workerData;

const enc = new TextEncoder();
const ring = new InputRing(sab, capacity);
const outbox = new Outbox(outboxSab);
const post = (type, payload) => outbox.post(type, payload);
const vmHook = new VMHook(vmHookOn);
const execution = new Execution({ ring, vmHook, post });
execution.installClock();
const output = new ConsoleOutput({ post, execution, firmware });
const consoleIn = new ConsoleInput({ ring, execution, output });
const reset = new Reset({ output, post, ring });
const boardPy = new BoardPython({
  sources: readBoardSources(),
  // Set by the Go side from the profile; os.uname() reports it (py/system.py).
  port: process.env.WEBREPL_SIM_PORT || 'esp32',
  // The modelled release (main.mjs --firmware); sys.implementation and os.uname report it.
  version: firmware || '',
  // The simulated Wi-Fi network (main.mjs --wifi-*), or null: any network joins.
  wifi,
  // WebREPL is the board's to start (main.mjs --webrepl-off).
  webreplOff,
  readline: () => consoleIn.readline(),
  sleepMs: (ms) => execution.sleep(ms),
  peripheral: (json) => post('p', enc.encode(json)),
  hardReset: () => reset.hard(),
});

// installConsoleHooks routes the interpreter's console writes to output and its reads of
// fd 0 to consoleIn.
function installConsoleHooks(FS) {
  const { write, read } = FS;
  FS.write = function boardWrite(stream) {
    const result = write.apply(this, arguments);
    output.flushCapture(() => execution.poll());
    return result;
  };
  FS.read = function boardRead(stream, buffer, offset, length) {
    if (stream.fd === 0 || stream.path === '/dev/stdin') return consoleIn.readStdin(FS, buffer, offset, length);
    return read.apply(this, arguments);
  };
}

async function boot() {
  const t0 = performance.now();
  const mp = await loadInterpreter({
    micropythonURL,
    options: {
      stdout: (b) => output.captureByte(b[0]),
      stderr: (b) => output.captureByte(b[0]),
      stdin: () => null,
      linebuffer: false,
    },
    vmHook,
    outOfMemory: () => {
      output.release();
      output.emitText(`\r\nsimulated board: out of memory (over ${memoryCapBytes >> 20} MiB), resetting\r\n`);
      reset.hard();
    },
  });
  const M = mp._module;
  execution.attach(M);
  installConsoleHooks(mp.FS);
  const flash = new Flash(mp.FS, fsDir);
  flash.mount();

  boardPy.install(mp);
  if (vmHookOn) vmHook.discover(M, boardPy.vmProbe);
  const repl = new Repl({ M, flash, execution, output, consoleIn, ring, reset, post, boardPy, noRawPaste });

  // Like the ESP32's main.c: boot.py, then main.py (not when the REPL is raw), then the
  // REPL with its banner. The Go side may accept a client as soon as B arrives, so with
  // start-up files B comes first: a client's Ctrl-C can then stop a main.py that loops.
  const bootFiles = ['boot.py', ...(bootRaw ? [] : ['main.py'])].filter((name) => flash.has(name));
  if (bootFiles.length > 0) {
    post('B');
    for (const name of bootFiles) {
      execution.begin();
      const ret = boardPy.runBootFile(name, mp.globals.__dict__);
      execution.end();
      output.release();
      if (ret === 2) reset.soft();
    }
  }
  // A board that soft-resets in raw mode goes straight to the raw REPL: no banner.
  output.setSuppressed(bootRaw);
  mp.replInit(); // prints the friendly banner and ">>> "
  if (bootRaw) repl.enterRaw();
  output.release();
  if (bootFiles.length === 0) post('B');
  log(`booted in ${Math.round(performance.now() - t0)} ms (${bootRaw ? 'raw' : 'friendly'} REPL, flash ${fsDir})`);
  return repl;
}

// serve hands each console byte to the REPL; while none comes, due machine.Timer
// callbacks run.
function serve(repl) {
  for (;;) {
    const b = ring.available() > 0 ? ring.takeByte(0) : ring.takeByte(boardPy.idleWait());
    if (b < 0) {
      // A machine.Timer is due while the board sits at a prompt.
      boardPy.runIdle();
      output.release();
      continue;
    }
    repl.byte(b);
  }
}

serve(await boot());
