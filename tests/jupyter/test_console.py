"""`exit` and `quit()` end jupyter console (the pinned 6.6.3) as they do with ipykernel:
the kernel answers with the "ask_exit" payload, the console leaves without
asking and shuts the kernel down; `obj?` shows its text through the console's
pager. Run by run.sh (kernel installed, board up).
"""

import os
import subprocess
import sys
import time

TIMEOUT = 120  # a console that does not leave would otherwise wait for more input


def kernels_running():
    """Kernels started from this test's private runtime folder."""
    runtime = os.environ["JUPYTER_RUNTIME_DIR"]
    out = subprocess.run(["pgrep", "-f", "--", runtime + "/"], capture_output=True, text=True)
    return [p for p in out.stdout.split() if int(p) != os.getpid()]


def console(lines):
    """Runs jupyter console on the given input; returns its exit status and output."""
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_console", "--simple-prompt", "--kernel", "micropython-webrepl"],
        input="".join(line + "\n" for line in lines), capture_output=True, text=True, timeout=TIMEOUT)
    return proc.returncode, proc.stdout + proc.stderr


def main():
    for leave in ("exit", "quit()", "quit", "exit()"):
        status, out = console(["print(6 * 7)", "len?", leave, "print('after ' + 'exit')"])
        if status != 0 or "42" not in out:
            raise AssertionError(f"{leave}: status {status}, output:\n{out}")
        # The console shows the "page" payload of a help cell.
        if "Type:           function" not in out:
            raise AssertionError(f"len? showed no inspection text:\n{out}")
        if "after exit" in out or "NameError" in out or "Do you really want to exit" in out:
            raise AssertionError(f"{leave} did not end the console at once:\n{out}")
        # The console shut the kernel down (keepkernel false); give it time to go.
        deadline = time.monotonic() + 30
        while kernels_running() and time.monotonic() < deadline:
            time.sleep(0.2)
        if kernels_running():
            raise AssertionError(f"{leave}: the kernel still runs after the console left")
        print("ok:", leave, "ends jupyter console and its kernel")


if __name__ == "__main__":
    main()
