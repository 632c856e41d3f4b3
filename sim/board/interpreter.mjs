// Loading MicroPython's WebAssembly port with the imports a board needs: errno numbers as an
// ESP32 reports them, a memory cap, and (with the VM hook) a shared memory.
//
// Owns: nothing after loading; WebAssembly.instantiate is patched only while the port loads.

import { log } from './log.mjs';

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
export const memoryCapBytes = 256 * 1024 * 1024;

function adaptImports(imports, outOfMemory) {
  const translated = {};
  for (const [namespace, table] of Object.entries(imports)) {
    const copy = { ...table };
    for (const [name, fn] of Object.entries(table)) {
      if (typeof fn !== 'function') continue;
      if (name === 'emscripten_resize_heap') {
        copy[name] = function resizeWithinCap(requestedSize) {
          if (requestedSize >>> 0 > memoryCapBytes) {
            log(`the program needs more than ${memoryCapBytes >> 20} MiB of memory: resetting the board`);
            outOfMemory();
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

// loadInterpreter loads the port from micropythonURL. options are loadMicroPython's;
// vmHook is the VMHook (vmhook.mjs); outOfMemory is called, and must not return, when a
// program outgrows memoryCapBytes.
export async function loadInterpreter({ micropythonURL, options, vmHook, outOfMemory }) {
  const { loadMicroPython } = await import(micropythonURL);
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = (source, imports) => {
    ({ source, imports } = vmHook.share(source, imports));
    return instantiate(source, imports && adaptImports(imports, outOfMemory));
  };
  if (instantiateStreaming) {
    WebAssembly.instantiateStreaming = vmHook.enabled
      ? () => Promise.reject(new Error('the VM hook needs the wasm bytes'))
      : (source, imports) => instantiateStreaming(source, imports && adaptImports(imports, outOfMemory));
  }
  try {
    return await loadMicroPython(options);
  } finally {
    WebAssembly.instantiate = instantiate;
    if (instantiateStreaming) WebAssembly.instantiateStreaming = instantiateStreaming;
  }
}
