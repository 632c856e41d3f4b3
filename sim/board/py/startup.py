# boot.py and main.py at start-up, as the ESP32's main.c runs them (pyexec_file): the
# traceback names the file. worker.mjs decides which files run and when (board.py
# registers run_boot_file with _board).

import sys
import micropython


def run_boot_file(path, main_globals):
    # Returns 0 (ran, or no such file), 1 (raised; traceback printed) or 2 (SystemExit:
    # soft reset).
    try:
        with open(path) as f:
            src = f.read()
    except OSError:
        return 0
    micropython.kbd_intr(3)
    try:
        exec(compile(src, path, 'exec'), main_globals)
        for _ in range(1):
            pass  # a backward jump: a Ctrl-C still pending is raised here, not in the REPL
        return 0
    except SystemExit:
        return 2
    except BaseException as e:
        sys.print_exception(e)
        return 1
    finally:
        micropython.kbd_intr(-1)
