"""Three cells through jupyter_client's KernelManager against a simulated
board, then a restart and a second kernel: each must find the board free
(the kernel logs out of WebREPL when it stops). Run by run.sh."""

import signal
import sys
import time

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

TIMEOUT = 30


def run(kc, code, timeout=TIMEOUT):
    """Execute code; return (reply content, list of (msg_type, content)).
    The other test files share it (with their own timeout)."""
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                return reply["content"], outputs
            continue
        if msg["msg_type"] != "execute_input":
            outputs.append((msg["msg_type"], msg["content"]))


def stdout(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stdout")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main():
    km, kc = start_new_kernel(kernel_name="micropython-webrepl")
    try:
        reply, out = run(kc, "for i in range(3):\n    print('line', i)\n")
        check(reply["status"] == "ok", "cell 1 succeeds")
        text = stdout(out)
        check(text == "line 0\nline 1\nline 2\n", "cell 1 shows exactly its three lines (connecting is silent)")

        reply, out = run(kc, "import sys\nsys.implementation.name")
        results = [c for t, c in out if t == "execute_result"]
        check(reply["status"] == "ok" and len(results) == 1, "cell 2 has one Out")
        check(results[0]["data"]["text/plain"] == "'micropython'", "cell 2's Out is the board's repr")
        check(results[0]["execution_count"] == reply["execution_count"], "Out[n] carries the cell's count")

        reply, out = run(kc, "def f():\n    return 1 / 0\n\nf()\n")
        errors = [c for t, c in out if t == "error"]
        check(reply["status"] == "error" and [t for t, _ in out] == ["error"], "cell 3 fails with one error message")
        tb = "\n".join(errors[0]["traceback"])
        check('Cell In[3], line 4\n    f()' in tb and 'Cell In[3], line 2, in f\n    return 1 / 0' in tb,
              "cell 3's traceback names the cell, its line numbers and lines")

        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=TIMEOUT)
        reply, out = run(kc, "print('after restart')")
        check(reply["status"] == "ok" and "after restart" in stdout(out), "the restarted kernel reconnects")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)

    # Signals, as a terminal or `jupyter console` sends them: SIGINT
    # interrupts the running cell, SIGTERM makes the kernel log out and exit.
    km, kc = start_new_kernel(kernel_name="micropython-webrepl")
    try:
        msg_id = kc.execute("import time\nprint('looping')\nwhile True:\n    time.sleep(0.1)\n")
        deadline = time.monotonic() + TIMEOUT
        while True:
            if time.monotonic() >= deadline:
                raise AssertionError("no output from the looping cell")
            msg = kc.get_iopub_msg(timeout=TIMEOUT)
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream"
                    and "looping" in msg["content"]["text"]):
                break
        km.signal_kernel(signal.SIGINT)
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        check(reply["parent_header"]["msg_id"] == msg_id and reply["content"].get("ename") == "KeyboardInterrupt",
              "SIGINT interrupts the running cell")
        km.signal_kernel(signal.SIGTERM)
        deadline = time.monotonic() + TIMEOUT
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        check(not km.is_alive(), "SIGTERM stops the kernel")
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)
        km.cleanup_resources()

    km, kc = start_new_kernel(kernel_name="micropython-webrepl")
    try:
        reply, out = run(kc, "print('second kernel')")
        check(reply["status"] == "ok" and "second kernel" in stdout(out), "the next kernel gets the board")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)

    # `install --full-window` (run.sh): the env reaches the kernel, and a cell
    # larger than the raw-paste windows arrives whole on the (ESP32) board.
    name = "micropython-webrepl-full-window"
    env = KernelSpecManager().get_kernel_spec(name).env
    check(env.get("WEBREPL_WINDOW") == "full", "install --full-window writes WEBREPL_WINDOW=full (it is --window full)")
    km, kc = start_new_kernel(kernel_name=name)
    try:
        lines = [f"total = {i}  # line {i} of a cell larger than the raw-paste windows" for i in range(1, 41)]
        code = "\n".join(lines) + "\nprint('total', total)\n"
        check(len(code) > 1024, "the full-window cell is over 1 KB")
        reply, out = run(kc, code)
        check(reply["status"] == "ok" and stdout(out).endswith("total 40\n"),
              "a large cell runs whole with the full raw-paste window")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
