// The ESP8266 VM hook (--vm-hook).
//
// On an ESP8266 the VM calls the network stack between bytecodes (MICROPY_VM_HOOK_POLL,
// ports/esp8266/mpconfigport.h), so a Ctrl-C reaches mp_sched_keyboard_interrupt() even in
// `while True: pass`. The WebAssembly port has no such hook and the worker is busy inside
// the VM then, so main.mjs does what that function does, in the interpreter's memory made
// shared (wasmshare.mjs). Where its words live is learnt here once, at boot, by watching
// what the function itself changes; the Python that provokes those changes is
// py/vmprobe.py.
//
// Owns: the shared WebAssembly memory and the addresses of the interrupt words in it.

import { parentPort } from 'node:worker_threads';
import { sharedMemoryModule } from './wasmshare.mjs';
import { log } from './log.mjs';

export class VMHook {
  constructor(enabled) {
    this.enabled = enabled;
    this.memory = null; // the interpreter's memory, shared, once instantiated
    this.words = null; // { pending, sched, kbd, interruptChar } byte addresses, once found
  }

  // share rewrites an instantiation of the interpreter so that its memory is a shared one
  // this hook keeps (unchanged when the hook is off).
  share(source, imports) {
    if (!this.enabled || !imports || source instanceof WebAssembly.Module) return { source, imports };
    const shared = sharedMemoryModule(source);
    this.memory = new WebAssembly.Memory({ initial: shared.initial, maximum: shared.maximum, shared: true });
    return { source: shared.bytes, imports: { ...imports, env: { ...imports.env, [shared.importName]: this.memory } } };
  }

  memoryWords() {
    return new Int32Array(this.memory.buffer);
  }

  // discover finds the interrupt words (mp is the loaded interpreter, M its Emscripten
  // module, probe the functions of py/vmprobe.py) and hands them to main.mjs.
  discover(M, probe) {
    // A KeyboardInterrupt raised once leaves the preallocated exception with a traceback,
    // which mp_sched_keyboard_interrupt() then resets: that tells the exception's address.
    M._mp_sched_keyboard_interrupt();
    probe.raiseOnce();
    const before = this.memoryWords().slice();
    M._mp_sched_keyboard_interrupt();
    const changed = changedWords(before, this.memoryWords());
    probe.raiseOnce(); // the pending exception is consumed again
    // pending exception: NULL → &mp_kbd_exception, whose traceback_data (+8) went to NULL;
    // sched_state: MP_SCHED_IDLE (1) → MP_SCHED_PENDING (0).
    const pending = changed.find((w) => w.was === 0 && changed.some((t) => t.addr === w.now + 8 && t.now === 0 && t.was !== 0));
    const sched = changed.filter((w) => w.was === 1 && w.now === 0);
    // mp_interrupt_char: the word micropython.kbd_intr() sets.
    const original = M._mp_hal_get_interrupt_char();
    probe.setInterruptChar(65);
    const at65 = this.memoryWords().slice();
    probe.setInterruptChar(66);
    // The argument may linger elsewhere (a stack slot): the word is the one the port's own
    // mp_hal_get_interrupt_char() reads.
    const words = this.memoryWords();
    const charWords = changedWords(at65, words).filter((w) => {
      if (w.was !== 65 || w.now !== 66) return false;
      words[w.addr >> 2] = 67;
      const reads = M._mp_hal_get_interrupt_char() === 67;
      words[w.addr >> 2] = 66;
      return reads;
    });
    probe.setInterruptChar(original);
    if (!pending || sched.length !== 1 || charWords.length !== 1) {
      log(`VM hook: the interpreter's interrupt state was not found (${changed.length} words changed); tight loops stay uninterruptible`);
      return;
    }
    this.words = { pending: pending.addr, sched: sched[0].addr, kbd: pending.now, interruptChar: charWords[0].addr };
    parentPort.postMessage({ type: 'vm-hook', memory: this.memory.buffer, ...this.words });
  }

  // clear withdraws a KeyboardInterrupt main.mjs scheduled that has not been raised yet; it
  // reports whether there was one.
  clear() {
    if (!this.words) return false;
    return Atomics.exchange(this.memoryWords(), this.words.pending >> 2, 0) !== 0;
  }
}

function changedWords(before, after) {
  const changed = [];
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed.push({ addr: i * 4, was: before[i], now: after[i] });
  return changed;
}
