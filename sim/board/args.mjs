// A board's command-line options (main.mjs's arguments; host.mjs gets the same list for each
// board it runs) and where the pinned MicroPython package is.
//
// Owns: nothing.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const boardUsage = 'node main.mjs --fs DIR --queue N [--firmware X.Y.Z] [--direct-read] [--vm-hook] [--raw] [--no-raw-paste] [--wifi-ssid S --wifi-key K --wifi-ip A] [--webrepl-off]';

const here = path.dirname(fileURLToPath(import.meta.url));
const packagePath = '@micropython/micropython-webassembly-pyscript/micropython.mjs';

// UsageError is a bad argument list; its message says what is wrong.
export class UsageError extends Error {}

// parseBoardArgs reads a board's options from argv (no program name); it throws UsageError.
export function parseBoardArgs(argv) {
  const opts = { fsDir: '', queue: -1, raw: false, noRawPaste: false, firmware: '', directRead: false, vmHook: false, wifi: null, webreplOff: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--fs') {
      if (i + 1 >= argv.length) throw new UsageError('--fs needs a directory');
      opts.fsDir = argv[++i];
    } else if (arg === '--queue') {
      if (i + 1 >= argv.length) throw new UsageError('--queue needs a number');
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--queue ${argv[i]}: not a byte count`);
      opts.queue = n;
    } else if (arg === '--firmware') {
      if (i + 1 >= argv.length || !/^\d+\.\d+\.\d+$/.test(argv[i + 1])) throw new UsageError('--firmware needs a release such as 1.28.0');
      opts.firmware = argv[++i];
    } else if (arg === '--direct-read') {
      opts.directRead = true;
    } else if (arg === '--vm-hook') {
      opts.vmHook = true;
    } else if (arg === '--raw') {
      opts.raw = true;
    } else if (arg === '--no-raw-paste') {
      opts.noRawPaste = true;
    } else if (arg === '--webrepl-off') {
      // WebREPL starts when boot.py runs webrepl.start(), as on a fresh ESP32 (sim --serial).
      opts.webreplOff = true;
    } else if (arg === '--wifi-ssid' || arg === '--wifi-key' || arg === '--wifi-ip') {
      // The one network the board can join (network.WLAN.connect), and the address it gets.
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      opts.wifi = opts.wifi || { ssid: '', key: '', ip: '127.0.0.1' };
      opts.wifi[arg.slice('--wifi-'.length)] = argv[++i];
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (!opts.fsDir) throw new UsageError('--fs DIR is required');
  if (opts.queue < 0) throw new UsageError('--queue N is required');
  let stat;
  try {
    stat = fs.statSync(opts.fsDir);
  } catch (err) {
    throw new UsageError(`--fs ${opts.fsDir}: ${err.message}`);
  }
  if (!stat.isDirectory()) throw new UsageError(`--fs ${opts.fsDir}: not a directory`);
  opts.fsDir = fs.realpathSync(opts.fsDir);
  return opts;
}

// resolveMicroPython finds the pinned npm package: in WEBREPL_SIM_MODULES when the Go side
// set it (and only there), else in node_modules beside this file or further up. It throws
// an Error saying where it looked.
export function resolveMicroPython() {
  const fromEnv = process.env.WEBREPL_SIM_MODULES;
  if (fromEnv) {
    const file = path.join(fromEnv, packagePath);
    if (!fs.existsSync(file)) throw new Error(`MicroPython package not found at ${file} (WEBREPL_SIM_MODULES=${fromEnv})`);
    return pathToFileURL(file).href;
  }
  try {
    return pathToFileURL(createRequire(path.join(here, 'main.mjs')).resolve(packagePath)).href;
  } catch {
    throw new Error(`MicroPython package not found in ${path.join(here, 'node_modules')} (run npm install in sim/board or set WEBREPL_SIM_MODULES)`);
  }
}
