// The board's Python side as the worker sees it: the sources in py/ (the board modules
// MicroPython's WebAssembly port lacks — machine with Timer, network, esp, esp32, dht,
// neopixel, webrepl —, an os with uname, a sys naming the modelled firmware, a time whose
// sleeps run timers, input() on the board console, the boot.py/main.py runner and the
// flash mount), and the `_board` module through which that Python reaches the worker.
//
// py/board.py runs once at boot and loads the rest through _board.source. What the host
// decides at run time goes in as data (attributes of _board), never spliced into code.
//
// Owns: the Python functions the board's Python registers (the raw-paste syntax check, the
// boot file runner, machine.Timer's idle hooks, the VM hook's probe).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Every board source is compiled under this name; output.mjs hides traceback lines that
// name it, because on a real board these functions are C code and leave no frame.
export const boardSourceName = '<board>';

export const pyDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'py');

// The one statement run in the interpreter's own namespace: it runs py/board.py in a
// namespace of its own, so that nothing of it is left among the user's globals.
const entry = "import _board\nexec(compile(_board.source('board.py'), _board.source_name, 'exec'), {'__name__': '_boardlib'})\ndel _board";

// readBoardSources reads every .py file below dir, keyed by its path relative to dir with
// '/' separators.
export function readBoardSources(dir = pyDir) {
  const sources = new Map();
  const visit = (rel) => {
    for (const dirent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel ? rel + '/' + dirent.name : dirent.name;
      if (dirent.isDirectory()) visit(name);
      else if (dirent.name.endsWith('.py')) sources.set(name, fs.readFileSync(path.join(dir, name), 'utf8'));
    }
  };
  visit('');
  return sources;
}

export class BoardPython {
  // sources: readBoardSources(); port, version: what os.uname() and sys report (version ''
  // for the interpreter's own); wifi: the simulated network or null; webreplOff: whether
  // webrepl.start() turns WebREPL on (else it serves from boot); readline, sleepMs, peripheral, hardReset: the worker's
  // implementations of input(), time.sleep, peripheral reports and machine.reset().
  constructor({ sources, port, version, wifi, webreplOff, readline, sleepMs, peripheral, hardReset }) {
    this.sources = sources;
    this.syntaxErrorLine = null; // Python function(src) -> line of the SyntaxError, or 0
    this.runBootFile = null; // Python function(path, globals) -> 0 ran, 1 raised, 2 SystemExit
    // machine.Timer while the REPL waits: Python functions; nextIn returns the ms to the
    // next timer (-1: none).
    this.timers = { runIdle: null, nextIn: null };
    this.vmProbe = { raiseOnce: null, setInterruptChar: null };
    this.module = {
      port,
      version,
      // The one Wi-Fi network in range, as data for network.py: JSON [ssid, key, address],
      // or '' when every network joins (the friendly default).
      wifi: wifi ? JSON.stringify([wifi.ssid, wifi.key, wifi.ip]) : '',
      // Whether webrepl.start() turns WebREPL on (sim --serial) or it serves from boot.
      webrepl_off: Boolean(webreplOff),
      source_name: boardSourceName,
      source: (name) => {
        const src = this.sources.get(String(name));
        if (src === undefined) throw new Error(`no board source ${name}`);
        return src;
      },
      readline: () => readline(),
      sleep_ms: (ms) => sleepMs(ms),
      peripheral: (json) => peripheral(String(json)),
      hard_reset: () => hardReset(),
      set_syntax_checker: (fn) => {
        this.syntaxErrorLine = fn;
      },
      set_boot_runner: (fn) => {
        this.runBootFile = fn;
      },
      set_timer_hooks: (runIdle, nextIn) => {
        this.timers.runIdle = runIdle;
        this.timers.nextIn = nextIn;
      },
      set_vm_probe: (raiseOnce, setInterruptChar) => {
        this.vmProbe.raiseOnce = () => raiseOnce();
        this.vmProbe.setInterruptChar = (c) => setInterruptChar(c);
      },
    };
  }

  // install registers _board with the interpreter mp and runs py/board.py.
  install(mp) {
    mp.registerJsModule('_board', this.module);
    mp.runPython(entry);
  }

  // idleWait is how long the REPL may wait for input before a timer is due (Infinity if
  // none).
  idleWait() {
    if (!this.timers.nextIn) return Infinity;
    const ms = this.timers.nextIn();
    return ms < 0 ? Infinity : Math.max(ms, 1);
  }

  // runIdle runs the timers that are due while the board sits at a prompt.
  runIdle() {
    this.timers.runIdle();
  }
}
