"""The file magics over the Jupyter protocol (jupyter_client), against the
simulated board run.sh started and against real MicroPython
(../shared/realmp, or $WEBREPL_REALMP; one skip line when absent):
%%writefile + %run + %ls + %cat, %put/%get of 30 KB of random binary
identical, the progress display updating in place, one-line errors.
The kernel is started in a fresh "notebook folder", as Jupyter does, and
local paths are checked to be relative to it. Run by run.sh."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

from jupyter_client.manager import start_new_kernel

import test_client
from test_client import check, stdout

TIMEOUT = 120  # generous: a loaded 2-core machine
REALMP_PASSWORD = "rmp"


def run(kc, code):
    """Execute code; return (reply content, list of (msg_type, content))."""
    return test_client.run(kc, code, timeout=TIMEOUT)


def ok(kc, code):
    reply, out = run(kc, code)
    if reply["status"] != "ok":
        raise AssertionError(f"{code!r} failed: {reply.get('ename')}: {reply.get('evalue')}")
    return out


def one_line_error(kc, code, ename, contains, label):
    reply, out = run(kc, code)
    errors = [c for t, c in out if t == "error"]
    check(reply["status"] == "error" and reply["ename"] == ename and contains in reply["evalue"]
          and "\n" not in reply["evalue"] and len(errors) == 1 and len(errors[0]["traceback"]) == 1,
          f"{label}: {code!r} is one line, {ename} ({reply.get('ename')}: {reply.get('evalue')})")


def check_progress(out, summary_start, label):
    """One display_data with a display_id, then updates of that display
    only (the last at 100%), then a one-line summary on stdout."""
    displays = [c for t, c in out if t == "display_data"]
    updates = [c for t, c in out if t == "update_display_data"]
    check(len(displays) == 1 and displays[0].get("transient", {}).get("display_id"),
          f"{label}: one progress display with a display_id")
    display_id = displays[0]["transient"]["display_id"]
    check(len(updates) >= 1 and all(u["transient"]["display_id"] == display_id for u in updates),
          f"{label}: {len(updates)} update_display_data for the same display_id")
    order = [t for t, _ in out if t in ("display_data", "update_display_data", "stream")]
    check(order[0] == "display_data" and order[-1] == "stream" and "stream" not in order[:-1],
          f"{label}: the bar comes first, updated in place, then the summary")
    check("100%" in updates[-1]["data"]["text/plain"], f"{label}: the bar ends at 100%")
    text = stdout(out)
    check(text.startswith(summary_start) and text.count("\n") == 1
          and re.search(r": 30720 bytes in \d+\.\d+ s, verified", text),
          f"{label}: one summary line: {text.strip()!r}")


def exercise(kc, nbdir, label, folder):
    """The file magics on one board; folder is a board folder to work in."""
    if folder != ".":
        ok(kc, f"%mkdir {folder}")
    source = "total = 6 * 7\ndef fail():\n    return 1 / 0\nprint('ran', total)\n"
    out = ok(kc, f"%%writefile {folder}/wk_main.py\n" + source.rstrip("\n"))
    check(f"{folder}/wk_main.py: {len(source)} bytes in" in stdout(out) and "verified" in stdout(out),
          f"{label}: %%writefile reports bytes and verification: {stdout(out).strip()!r}")
    listing = stdout(ok(kc, f"%ls {folder}"))
    check(re.search(rf"^ *{len(source)}  wk_main\.py$", listing, re.M),
          f"{label}: %ls shows the file and its size")
    check(stdout(ok(kc, f"%ls {folder}/wk_main.py")) == f"{len(source)}  {folder}/wk_main.py\n",
          f"{label}: %ls of a file shows that file")
    check(stdout(ok(kc, f"%cat {folder}/wk_main.py")) == source, f"{label}: %cat shows the file as written")
    out = ok(kc, f"%run {folder}/wk_main.py\nprint(total + 1)")
    check(stdout(out) == "ran 42\n43\n", f"{label}: %run runs in the board's namespace: {stdout(out)!r}")
    reply, out = run(kc, "fail()")
    tb = "\n".join(c for t, o in out if t == "error" for c in o["traceback"])
    check(reply["status"] == "error" and f'File "{folder}/wk_main.py", line 3, in fail' in tb,
          f"{label}: a traceback names the board file and its line")
    ok(kc, f"%%writefile {folder}/wk_bad.py\nx = 1\n\nraise ValueError('bad file')")
    reply, out = run(kc, f"%run {folder}/wk_bad.py")
    tb = "\n".join(c for t, o in out if t == "error" for c in o["traceback"])
    check(reply.get("ename") == "ValueError" and f'File "{folder}/wk_bad.py", line 3, in <module>' in tb
          and "<stdin>" not in tb, f"{label}: %run of a failing file names only that file: {tb!r}")

    # 30 KB of random binary, there and back; local paths are the notebook folder's.
    data = os.urandom(30 * 1024)
    with open(os.path.join(nbdir, "blob.bin"), "wb") as f:
        f.write(data)
    ok(kc, f"%mkdir {folder}/wk_dir")
    out = ok(kc, f"%put blob.bin {folder}/wk_dir/")
    check_progress(out, f"%put blob.bin → board {folder}/wk_dir/blob.bin: ", f"{label} %put")
    os.mkdir(os.path.join(nbdir, "back"))
    out = ok(kc, f"%get {folder}/wk_dir/blob.bin back/")
    check_progress(out, f"%get {folder}/wk_dir/blob.bin → back/blob.bin: ", f"{label} %get")
    with open(os.path.join(nbdir, "back", "blob.bin"), "rb") as f:
        check(f.read() == data, f"{label}: %put then %get gives 30 KB of random binary back identical")

    one_line_error(kc, f"%cat {folder}/wk_nothing.txt", "FileNotFoundError", "wk_nothing.txt", label)
    one_line_error(kc, "%put not_here.bin", "FileNotFoundError", "no such local file", label)
    one_line_error(kc, f"%put blob.bin {folder}/wk_main.py/x.bin", "NotADirectoryError", "wk_main.py", label)
    one_line_error(kc, f"%mkdir {folder}/wk_dir", "FileExistsError", "wk_dir", label)
    one_line_error(kc, f"%rm {folder}/wk_dir", "OSError", "not empty", label)
    one_line_error(kc, f"%run {folder}/wk_dir", "IsADirectoryError", "wk_dir", label)
    one_line_error(kc, f"%ls {folder}/wk_nowhere", "FileNotFoundError", "wk_nowhere", label)
    reply, out = run(kc, "print('still running')")
    check(stdout(out) == "still running\n", f"{label}: the kernel keeps running after the errors")
    ok(kc, f"%rm {folder}/wk_dir/blob.bin {folder}/wk_dir {folder}/wk_main.py {folder}/wk_bad.py")
    listing = stdout(ok(kc, f"%ls {folder}"))
    check("wk_" not in listing, f"{label}: %rm removed the files and the folder")
    if folder != ".":
        ok(kc, f"%rm {folder}")


def with_kernel(label, folder, connect=None):
    nbdir = tempfile.mkdtemp(prefix="wk-notebook-")
    km, kc = start_new_kernel(startup_timeout=TIMEOUT, kernel_name="micropython-webrepl", cwd=nbdir)
    try:
        if connect:
            ok(kc, connect)
        exercise(kc, nbdir, label, folder)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
        shutil.rmtree(nbdir, ignore_errors=True)


def realmp_dir():
    d = os.environ.get("WEBREPL_REALMP")
    if d:
        return d
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "realmp"))


def start_realmp(script, flash):
    """Starts the real board on a free port; returns (process, url)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([script, str(port), REALMP_PASSWORD, flash], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    found = []
    ready = threading.Event()

    def read():
        for raw in proc.stdout:  # the board's console: not always UTF-8
            line = raw.decode("utf-8", "replace")
            if line.startswith("realboard listening on ") and not found:
                found.append(line.split()[-1])
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(TIMEOUT) or not found:
        stop(proc)
        raise AssertionError("realmp did not start listening")
    return proc, found[0]


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=TIMEOUT)


def main():
    with_kernel("simulator", "/wk_sim")
    script = os.path.join(realmp_dir(), "start.sh")
    if not os.access(script, os.X_OK):
        print(f"realmp file-magic tests skipped: no real MicroPython board at {realmp_dir()}")
        return 0
    flash = tempfile.mkdtemp(prefix="wk-realmp-flash-")
    proc, url = start_realmp(script, flash)
    try:
        # The unix port's "/" is the host's; its flash is the current folder.
        with_kernel("realmp", ".", connect=f"%connect {url} --password {REALMP_PASSWORD}")
    finally:
        stop(proc)
        shutil.rmtree(flash, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
