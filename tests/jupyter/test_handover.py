"""Several of our processes on one simulated board (hand-over, issue 10):
two kernels alternating cells, `exec` while a kernel idles, a newcomer
waiting for a busy holder and giving up, a holder killed with SIGKILL, and a
cell right after machine.reset(). Run by run.sh with XDG_RUNTIME_DIR set to
a private folder and WEBREPL_BIN to the binary."""

import os
import queue
import signal
import subprocess
import sys
import time

from jupyter_client.manager import start_new_kernel

from test_client import TIMEOUT, check, run, stdout

BIN = os.environ["WEBREPL_BIN"]
URL = os.environ["WEBREPL_TEST_URL"]
PASSWORD = os.environ["WEBREPL_TEST_PASSWORD"]


def stderr_text(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stderr")


def wait_iopub(kc, msg_id, want, what):
    """Reads kc's iopub until a message of request msg_id satisfies want."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError("no %s within %ss" % (what, TIMEOUT)) from None
        if msg["parent_header"].get("msg_id") == msg_id and want(msg):
            return msg


def exec_code(code, env=None):
    """`webrepl-kernel exec -` with code on stdin."""
    e = dict(os.environ, WEBREPL_URL=URL, WEBREPL_PASSWORD=PASSWORD)
    e.update(env or {})
    return subprocess.run([BIN, "exec", "-"], input=code, capture_output=True, text=True, timeout=120, env=e)


def main():
    km1, kc1 = start_new_kernel(kernel_name="micropython-webrepl")
    km2 = kc2 = None
    try:
        reply, out = run(kc1, "shared = 1\nprint('k1 sees', shared)")
        check(reply["status"] == "ok" and "k1 sees 1" in stdout(out), "kernel 1 runs a cell")
        km2, kc2 = start_new_kernel(kernel_name="micropython-webrepl")
        t0 = time.monotonic()
        reply, out = run(kc2, "shared += 1\nprint('k2 sees', shared)")
        took = time.monotonic() - t0
        check(reply["status"] == "ok" and "k2 sees 2" in stdout(out),
              "kernel 2 takes the board from idle kernel 1; the board's variables are shared (%.1fs)" % took)
        reply, out = run(kc1, "shared += 1\nprint('k1 sees', shared)")
        check(reply["status"] == "ok" and "k1 sees 3" in stdout(out), "kernel 1 takes it back: %r %r" % (reply.get("evalue"), stdout(out)))
        err = stderr_text(out)
        check(err.count("The board was used by") == 1 and "PID %d" % km2.provisioner.pid in err,
              "kernel 1 says once that the board was used by kernel 2: %r" % err.strip())
        reply, out = run(kc1, "print('again', shared)")
        check("used by" not in stderr_text(out), "and only once")
        check(reply["status"] == "ok" and "again 3" in stdout(out),
              "the board keeps its RAM while kernel 1 holds it: %r %r" % (reply.get("evalue"), stdout(out)))

        res = exec_code("print('exec sees', shared)\n")
        check(res.returncode == 0 and "exec sees 3" in res.stdout,
              "exec while kernel 1 idles on the board: %r %r" % (res.stdout, res.stderr))
        reply, out = run(kc1, "print('k1 after exec')")
        check(reply["status"] == "ok" and "exec" in stderr_text(out), "kernel 1 says exec used the board")

        # A holder running a long cell: the newcomer says what it waits for and gives up.
        # The cell runs until it is interrupted, and the newcomer starts once
        # the cell has printed, so it is on the board.
        msg_id = kc1.execute("import time\nprint('long started')\nwhile True:\n    time.sleep(0.1)\n")
        wait_iopub(kc1, msg_id, lambda m: m["msg_type"] == "stream" and "long started" in m["content"]["text"],
                   "the long cell's first line")
        res = exec_code("print('should not run')\n", env={"WEBREPL_HANDOVER_WAIT": "2s"})
        check(res.returncode == 1 and "waiting for the cell running in a notebook" in res.stderr
              and "PID %d" % km1.provisioner.pid in res.stderr and "gave up after" in res.stderr
              and "should not run" not in res.stdout,
              "a newcomer waits for the busy kernel, then gives up naming it: %r" % res.stderr.strip())
        km1.interrupt_kernel()
        wait_iopub(kc1, msg_id, lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "idle",
                   "the interrupted long cell's idle status")

        # %connect --keep: newcomers wait and give up.
        reply, out = run(kc1, "%%connect %s --keep" % URL)
        check(reply["status"] == "ok", "%connect --keep")
        res = exec_code("print('x')\n", env={"WEBREPL_HANDOVER_WAIT": "1s"})
        check(res.returncode == 1 and "keeps it" in res.stderr, "a kept board is not handed over: %r" % res.stderr.strip())
        reply, out = run(kc1, "%%connect %s" % URL)
        check(reply["status"] == "ok", "%connect without --keep")

        # A holder killed with SIGKILL: its entry is stale and ignored.
        reply, out = run(kc2, "print('k2 holds')")
        check(reply["status"] == "ok", "kernel 2 holds the board again")
        os.kill(km2.provisioner.pid, signal.SIGKILL)
        km2.provisioner.process.wait()
        t0 = time.monotonic()
        reply, out = run(kc1, "print('after kill', shared)")
        check(reply["status"] == "ok" and "after kill" in stdout(out),
              "kernel 1 gets the board after kernel 2 was killed (%.1fs): %r %r"
              % (time.monotonic() - t0, reply.get("evalue"), stderr_text(out)))

        # A cell right after machine.reset(): it waits for the reboot and runs.
        reply, out = run(kc1, "import machine\nmachine.reset()")
        reply, out = run(kc1, "print('after reset', 6 * 7)")
        check(reply["status"] == "ok" and "after reset 42" in stdout(out),
              "a cell right after machine.reset() runs: %r %r" % (reply.get("evalue"), stdout(out)))
    finally:
        kc1.stop_channels()
        km1.shutdown_kernel(now=False)
        if km2 is not None:
            kc2.stop_channels()
            km2.shutdown_kernel(now=True)
    left = [n for n in os.listdir(os.path.join(os.environ["XDG_RUNTIME_DIR"], "webrepl-kernel")) if n.endswith(".json")]
    check(left == [], "no entry left once every process ended (%r)" % left)
    print("handover tests passed")


if __name__ == "__main__":
    sys.exit(main())
