# What the ESP8266 VM hook (vmhook.mjs) runs while it learns where the interpreter keeps its
# interrupt state: vmhook.mjs watches which memory words these calls change.
# board.py registers both functions with _board.

import micropython


def raise_once():
    # Runs a backward jump, where the VM raises a KeyboardInterrupt scheduled before the
    # call, and swallows it.
    try:
        for _ in range(2):
            pass
    except KeyboardInterrupt:
        pass


def set_interrupt_char(c):
    micropython.kbd_intr(c)
