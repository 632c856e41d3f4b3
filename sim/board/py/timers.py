# machine.Timer's queue and the time module whose sleeps run it. A board runs timer
# callbacks from its scheduler; here they run while the program sleeps (the time
# functions below) and while the REPL waits for input (worker.mjs calls run_idle). A
# program that computes without sleeping delays them, as a busy scheduler would.
# board.py makes one TimerQueue, hands it to machine.py (as _timerq) and installs the time
# module built by time_names.

import sys
import time
import _board


class TimerQueue:
    def __init__(self):
        self.active = []

    def add(self, timer):
        if timer not in self.active:
            self.active.append(timer)

    def remove(self, timer):
        if timer in self.active:
            self.active.remove(timer)

    def next_in(self):
        # Milliseconds until the next timer is due (0 if overdue), -1 if none is active.
        if not self.active:
            return -1
        now = time.ticks_ms()
        return max(0, min(time.ticks_diff(t._due, now) for t in self.active))

    def run_due(self):
        now = time.ticks_ms()
        for t in list(self.active):
            if t in self.active and time.ticks_diff(t._due, now) <= 0:
                t._fire(now)

    def run_idle(self):
        # Called by the worker while the REPL waits; returns next_in() for its wait.
        try:
            self.run_due()
        except Exception as e:
            sys.print_exception(e)
        return self.next_in()


def time_names(timerq):
    # The names of the board's time module: the port's own, with sleeps that run timerq's
    # timers and that a Ctrl-C interrupts (_board.sleep_ms).
    names = {}
    for k in dir(time):
        if not k.startswith('__'):
            names[k] = getattr(time, k)

    def wait_ms(ms):
        # _board.sleep_ms returns what is left when a Ctrl-C cut the wait short; the jump
        # back in this loop is where the VM raises the KeyboardInterrupt, inside the
        # sleep like on a board, so a try around the sleep catches it.
        left = ms
        while left > 0:
            left = _board.sleep_ms(left)

    def sleep_ms(ms):
        if type(ms) is not int:
            return time.sleep_ms(ms)  # the port's own error for a bad argument
        if not timerq.active:
            return wait_ms(ms)
        end = time.ticks_add(time.ticks_ms(), ms)
        while True:
            timerq.run_due()
            left = time.ticks_diff(end, time.ticks_ms())
            if left <= 0:
                return
            nxt = timerq.next_in()
            wait_ms(left if nxt < 0 else min(left, max(nxt, 1)))

    def sleep(s):
        if type(s) is not int and type(s) is not float:
            return time.sleep(s)
        if not timerq.active:
            return wait_ms(s * 1000)
        sleep_ms(int(s * 1000))

    def sleep_us(us):
        if type(us) is not int or us < 1000:
            return time.sleep_us(us)
        if not timerq.active:
            return wait_ms(us / 1000)
        sleep_ms(us // 1000)

    names['sleep'] = sleep
    names['sleep_ms'] = sleep_ms
    names['sleep_us'] = sleep_us
    return names
