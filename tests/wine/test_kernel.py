"""Cells through jupyter_client (the pinned .venv) on the Windows build of
the kernel, started under Wine by a kernelspec made from the one the Windows
binary installed itself, against a simulated board on loopback: output,
an error, input(), an interrupt sent the way Jupyter does for
interrupt_mode "message" (interrupt_request on the control channel), a
restart and a shutdown. Run by tests/wine/run.sh."""

import json
import os
import sys
import time
from queue import Empty

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

# check, stdout and run are tests/jupyter/test_client.py's.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "jupyter"))
import test_client  # noqa: E402
from test_client import check, stdout  # noqa: E402

TIMEOUT = 60
NAME = "micropython-webrepl"
WINE_NAME = "micropython-webrepl-wine"


def run(kc, code, timeout=TIMEOUT):
    """test_client.run with this file's longer default timeout (Wine)."""
    return test_client.run(kc, code, timeout=timeout)


def wine_spec(data_dir, wine):
    """The kernelspec the Windows binary wrote, checked, and a copy whose
    argv starts it under Wine."""
    ksm = KernelSpecManager()
    spec = ksm.get_kernel_spec(NAME)
    check(spec.interrupt_mode == "message", "the installed kernelspec asks for interrupt_mode message")
    check(spec.argv[0].lower().startswith("z:\\") and spec.argv[0].lower().endswith("webrepl-kernel.exe"),
          f"argv[0] is the Windows path of the binary ({spec.argv[0]})")
    check(spec.argv[1:] == ["kernel", "--connection-file", "{connection_file}"], "argv runs the kernel command")
    check(spec.env.get("WEBREPL_URL") == os.environ["WEBREPL_TEST_URL"], "env names the board")
    with open(os.path.join(spec.resource_dir, "kernel.json"), encoding="utf-8") as f:
        raw = json.load(f)
    raw["argv"] = [wine] + raw["argv"]
    raw["display_name"] += " under Wine"
    wine_dir = os.path.join(data_dir, "kernels", WINE_NAME)
    os.makedirs(wine_dir, exist_ok=True)
    with open(os.path.join(wine_dir, "kernel.json"), "w", encoding="utf-8") as f:
        json.dump(raw, f)


def wait_for_output(kc, msg_id, text):
    deadline = time.monotonic() + TIMEOUT
    while True:
        if time.monotonic() >= deadline:
            raise AssertionError(f"no {text!r} from the running cell within {TIMEOUT} s")
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Empty:
            continue
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream"
                and text in msg["content"]["text"]):
            return


def main():
    wine_spec(os.environ["JUPYTER_DATA_DIR"], os.environ["WEBREPL_WINE"])
    km, kc = start_new_kernel(kernel_name=WINE_NAME, startup_timeout=TIMEOUT)
    try:
        info = kc.kernel_info(reply=True, timeout=TIMEOUT)["content"]
        check(info["implementation"] == "webrepl-kernel", "kernel_info answers from the Windows binary")
        reply, out = run(kc, "for i in range(3):\n    print('line', i, 'é✓')\n")
        check(reply["status"] == "ok" and stdout(out) == "line 0 é✓\nline 1 é✓\nline 2 é✓\n",
              "a cell prints exactly its lines, non-ASCII included")
        reply, out = run(kc, "import sys\nsys.implementation.name")
        results = [c for t, c in out if t == "execute_result"]
        check(len(results) == 1 and results[0]["data"]["text/plain"] == "'micropython'", "an Out is the board's repr")
        reply, out = run(kc, "def f():\n    return 1 / 0\n\nf()\n")
        errors = [c for t, c in out if t == "error"]
        check(reply["status"] == "error" and errors and errors[0]["ename"] == "ZeroDivisionError",
              "an exception is one error message")

        msg_id = kc.execute("name = input('name? ')\nprint('hi', name)", allow_stdin=True)
        request = kc.get_stdin_msg(timeout=TIMEOUT)
        kc.input("Ada")
        check(request["msg_type"] == "input_request" and request["content"]["prompt"] == "name? ",
              "input() asks the frontend")
        wait_for_output(kc, msg_id, "hi Ada")
        kc.get_shell_msg(timeout=TIMEOUT)

        msg_id = kc.execute("import time\nprint('looping')\nwhile True:\n    time.sleep(0.1)\n")
        wait_for_output(kc, msg_id, "looping")
        km.interrupt_kernel()  # interrupt_mode "message": interrupt_request on control
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=TIMEOUT)
        check(reply["content"]["status"] == "error" and reply["content"].get("ename") == "KeyboardInterrupt",
              "interrupt_request stops the running cell with KeyboardInterrupt")
        reply, out = run(kc, "print('alive')")
        check(reply["status"] == "ok" and stdout(out) == "alive\n", "the kernel runs cells after the interrupt")

        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=TIMEOUT)
        reply, out = run(kc, "print('after restart')")
        check(reply["status"] == "ok" and stdout(out) == "after restart\n", "the restarted kernel gets the board back")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    check(not km.is_alive(), "shutdown_request ends the kernel under Wine")
    print("wine jupyter_client test passed")


if __name__ == "__main__":
    sys.exit(main())
