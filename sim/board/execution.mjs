// Whether the board is executing code, and Ctrl-C while it does.
//
// main.mjs turns a Ctrl-C that arrives while code executes into the INTR word instead of
// queueing it (1; 2 when the ESP8266 VM hook has already scheduled the KeyboardInterrupt,
// vmhook.mjs). This module turns it into a KeyboardInterrupt at the board's poll points:
// sleep ticks (the wrapped Date.now and sleep below), console writes and console reads.
//
// Owns: the executing flag, the INTR and EXEC words of the input ring's control block, and
// the wrapped Date.now with its busy-wait throttle.

import { RING } from './ring.mjs';
import { quietWord } from './input.mjs';
import { CTRL_C } from './ascii.mjs';

// time.sleep in the port busy-waits on Date.now. After this many calls within one
// millisecond the worker sleeps for a millisecond instead, so a sleeping board does not
// burn a whole CPU core; Ctrl-C still wakes it at once.
const busyWaitCallsPerMs = 500;

export class Execution {
  // ring: the InputRing; vmHook: the VMHook; post: Outbox.post.
  constructor({ ring, vmHook, post }) {
    this.ring = ring;
    this.ctl = ring.ctl;
    this.vmHook = vmHook;
    this.post = post;
    this.executing = false;
    this.M = null; // the interpreter's Emscripten module, once loaded
  }

  attach(M) {
    this.M = M;
  }

  // begin marks the start of an execution. interrupt: a Ctrl-C that arrived before and
  // belongs to it (the REPL's deferred one).
  begin(interrupt = false) {
    const { ctl } = this;
    Atomics.store(ctl, RING.INTR, 0); // a Ctrl-C from before this execution is stale
    Atomics.store(ctl, RING.EXEC, 1);
    this.executing = true;
    const interrupted = interrupt || this.takeQueuedCtrlC();
    if (interrupted) Atomics.store(ctl, RING.INTR, 1);
    // The Go side times a Ctrl-C against this (the second byte: one is already pending).
    this.post('b', interrupted ? Uint8Array.of(1, 1) : Uint8Array.of(1));
  }

  // takeQueuedCtrlC takes a Ctrl-C that is the next byte waiting when code starts: it came
  // in the same burst as the input that started the code, and on a board it would still sit
  // in the socket and become a KeyboardInterrupt at the first poll. A Ctrl-C behind other
  // queued bytes belongs to those bytes and is left alone.
  takeQueuedCtrlC() {
    return this.ring.takeIfNext(CTRL_C);
  }

  // end marks the end of an execution and reports whether a Ctrl-C arrived that no running
  // code consumed.
  end() {
    const { ctl } = this;
    this.executing = false;
    Atomics.store(ctl, RING.EXEC, 0);
    this.post('b', Uint8Array.of(0));
    const intr = Atomics.exchange(ctl, RING.INTR, 0);
    // 2: the VM hook scheduled it; pyexec raises what is pending before it returns, so it
    // was consumed, unless it came too late for that (then it acts at the prompt).
    if (intr === 2) return this.vmHook.clear();
    return intr === 1;
  }

  interruptArmed() {
    return this.M._mp_hal_get_interrupt_char() === CTRL_C;
  }

  // poll is called at the board's poll points (sleep ticks, console writes, console reads).
  // It turns a pending Ctrl-C into a scheduled KeyboardInterrupt, which the VM raises at its
  // next check.
  poll() {
    if (!this.executing) return false;
    const { ctl } = this;
    const intr = Atomics.load(ctl, RING.INTR);
    if (intr === 2) {
      // The VM hook already scheduled it (main.mjs): the VM raises it at its next jump.
      Atomics.store(ctl, RING.INTR, 0);
      return true;
    }
    if (intr === 0 || !this.interruptArmed()) return false;
    Atomics.store(ctl, RING.INTR, 0);
    this.M._mp_sched_keyboard_interrupt();
    return true;
  }

  // sleep is the board's time.sleep: it waits up to ms milliseconds and returns the
  // milliseconds still left, which is more than 0 when a Ctrl-C cut the sleep short. The
  // KeyboardInterrupt is then scheduled, and the Python caller's loop jumps back at once,
  // where the VM raises it inside the sleep call, as MICROPY_EVENT_POLL_HOOK does on a board.
  // The port's own sleep busy-waits in C to its end, so the interrupt surfaced only at a
  // later jump, often after the enclosing try had already been left.
  sleep(ms) {
    const { ctl } = this;
    const deadline = performance.now() + Number(ms);
    for (;;) {
      const left = deadline - performance.now();
      if (this.poll()) return Math.max(left, Number.MIN_VALUE);
      if (left <= 0) return 0;
      // A Ctrl-C that micropython.kbd_intr(-1) made an ordinary byte leaves INTR set but
      // must not end the sleep.
      const word = Atomics.load(ctl, RING.INTR) === 0 ? RING.INTR : quietWord;
      Atomics.wait(ctl, word, 0, left);
    }
  }

  // takeInterrupt takes a Ctrl-C for a reader that raises KeyboardInterrupt itself (input()),
  // so one the VM hook scheduled as well is withdrawn: one Ctrl-C, one KeyboardInterrupt.
  takeInterrupt() {
    if (!this.executing) return false;
    const intr = Atomics.exchange(this.ctl, RING.INTR, 0);
    if (intr === 2) this.vmHook.clear();
    return intr !== 0;
  }

  // stdinInterrupt takes a Ctrl-C for a read of sys.stdin: 'raise' when the read must end
  // with EINTR (the KeyboardInterrupt is scheduled and MicroPython raises it in the
  // caller), 'byte' when the program turned Ctrl-C into an ordinary byte
  // (micropython.kbd_intr(-1)), null when there is none.
  stdinInterrupt() {
    if (!this.executing) return null;
    const { ctl } = this;
    const intr = Atomics.load(ctl, RING.INTR);
    if (intr === 2) {
      Atomics.store(ctl, RING.INTR, 0);
      return 'raise'; // the VM hook scheduled the KeyboardInterrupt
    }
    if (intr === 1) {
      Atomics.store(ctl, RING.INTR, 0);
      if (!this.interruptArmed()) return 'byte';
      this.M._mp_sched_keyboard_interrupt();
      return 'raise';
    }
    return null;
  }

  // installClock wraps Date.now, which the port's time.sleep calls on every tick, so that a
  // sleeping program notices Ctrl-C and does not spin a CPU core.
  installClock() {
    const realNow = Date.now;
    const { ctl } = this;
    let nowValue = 0;
    let nowCalls = 0;
    Date.now = () => {
      this.poll();
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
  }
}
