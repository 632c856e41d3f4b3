"""Connecting, over the Jupyter protocol, against simulated boards this test starts, stops,
restarts and replaces itself (issue 9 items 3 and 6, issue 7 item 7):

- connecting is silent: the first cell shows only what it printed;
- %board and the kernel_info banner name the board;
- a board reset, replaced (another port at the same address) or gone is told in the cell:
  "reconnecting to ws://… (attempt n)" lines while it is waited for, a one-line notice or a
  named one-line error at the end;
- a password given with %connect … --password PW appears in no history, no message of any
  channel and no line of the kernel's debug log.

Run by run.sh with WEBREPL_BIN set and a kernelspec "micropython-webrepl-noboard" installed
without URL or password, so every board is chosen with %connect."""

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from queue import Empty

from jupyter_client.manager import KernelManager

from test_client import TIMEOUT, check

BIN = os.environ["WEBREPL_BIN"]
KERNEL = "micropython-webrepl-noboard"
# How long the kernel keeps trying a board that is gone (webrepl.DefaultReconnectTimeout).
RECONNECT_TIMEOUT = 30


class Sim:
    """A simulated board run by `webrepl-kernel sim` (port 0: a free one)."""

    def __init__(self, password, profile="esp32", port=0, firmware="1.28"):
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [BIN, "sim", "--addr", "127.0.0.1:%d" % port, "--password", password, "--profile", profile,
             "--firmware", firmware, "--drain-period", "10ms"],
            stdout=self.out, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 180  # a first start may install the board's npm package
        while True:
            self.out.seek(0)
            m = re.search(r"ws://127\.0\.0\.1:(\d+)/", self.out.read())
            if m:
                self.url, self.port = m.group(0), int(m.group(1))
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.out.seek(0)
                raise AssertionError("the simulator did not start: %s" % self.out.read())
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


class Kernel:
    """A kernel with its debug log in a file; every message it publishes is kept."""

    def __init__(self):
        self.log = tempfile.NamedTemporaryFile(mode="w+", suffix=".log", delete=False)
        self.km = KernelManager(kernel_name=KERNEL)
        self.km.start_kernel(env=dict(os.environ, WEBREPL_KERNEL_DEBUG="1"), stderr=self.log)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        self.seen = []  # every message received, of every channel

    def run(self, code, until=None):
        """Runs a cell; returns (reply content, [(msg_type, content, arrival time)]).
        until(msg_type, content) is called for each output as it arrives."""
        msg_id = self.kc.execute(code)
        outputs = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=RECONNECT_TIMEOUT + TIMEOUT)
            self.seen.append(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            t, c = msg["msg_type"], msg["content"]
            if t == "status":
                if c["execution_state"] == "idle":
                    break
                continue
            outputs.append((t, c, time.monotonic()))
            if until:
                until(t, c)
        while True:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            self.seen.append(reply)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], outputs

    def request(self, send):
        msg_id = send()
        while True:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            self.seen.append(reply)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        os.unlink(self.log.name)
        return text


def streams(outputs, name):
    return "".join(c["text"] for t, c, _ in outputs if t == "stream" and c["name"] == name)


def printable(s):
    return s.isprintable() and "\n" not in s


def reconnect_lines(text, url):
    """The attempt numbers of the "reconnecting to URL (attempt n)" lines of text."""
    return re.findall(r"^reconnecting to %s \(attempt (\d+)\)$" % re.escape(url), text, re.M)


def main():
    password = "pw" + secrets.token_hex(3)  # 8 bytes: a board takes at most 9
    wrong, stray = "no" + secrets.token_hex(3), "zz" + secrets.token_hex(3)
    board = Sim(password)
    url = board.url
    k = Kernel()
    try:
        info = k.request(k.kc.kernel_info)
        check("No board chosen" in info["banner"], "kernel_info before %%connect says no board is chosen: %r" % info["banner"])

        # Silent connect: the first cell shows exactly what it printed.
        reply, out = k.run("%%connect %s --password %s\nx = 41\nprint('hi')" % (url, password))
        check(reply["status"] == "ok" and [t for t, _, _ in out] == ["execute_input", "stream"]
              and streams(out, "stdout") == "hi\n",
              "a first cell shows only its own output: %r" % [(t, c.get("text")) for t, c, _ in out])
        info = k.request(k.kc.kernel_info)
        check(url in info["banner"] and "esp32, MicroPython 1." in info["banner"],
              "the banner names the board: %r" % info["banner"])

        reply, out = k.run("%board")
        table = streams(out, "stdout")
        check(reply["status"] == "ok" and "URL:       %s\n" % url in table and re.search(r"Firmware:  MicroPython 1\.\d+\.\d+", table)
              and "Port:      esp32" in table and re.search(r"Unique id: [0-9a-f]{12}\n", table)
              and re.search(r"Free RAM:  \d+ bytes", table),
              "%%board shows URL, firmware, port, id and free memory:\n%s" % table)
        reply, out = k.run("%board -h")
        check(reply["status"] == "ok" and streams(out, "stdout").startswith("usage: %board"), "%board -h")
        reply, out = k.run("%board now")
        check(reply["status"] == "error" and reply["ename"] == "UsageError", "%board with an argument is a usage error")

        # Reset while no cell ran (the board stops and comes back fresh): told once, in one line.
        board.stop()
        came_back = {}
        start = time.monotonic()

        def restart_on_first_line(t, c):
            if t == "stream" and "reconnecting to" in c["text"] and "at" not in came_back:
                came_back["at"] = time.monotonic() - start
                came_back["board"] = Sim(password, port=board.port)

        reply, out = k.run("print('back', 'x' in globals())", until=restart_on_first_line)
        board = came_back.get("board", board)
        err = streams(out, "stderr")
        lines = reconnect_lines(err, url)
        check("at" in came_back and came_back["at"] < RECONNECT_TIMEOUT / 2,
              "a board that is gone shows a reconnecting line while the cell waits (after %.1fs)" % came_back.get("at", -1))
        check(reply["status"] == "ok" and streams(out, "stdout") == "back False\n" and len(lines) >= 1
              and err.count("The board was reset since the last cell") == 1,
              "the board came back: the cell runs, after %d reconnecting lines and one reset notice: %r" % (len(lines), err))
        reply, out = k.run("print('quiet')")
        check(streams(out, "stderr") == "" and streams(out, "stdout") == "quiet\n", "the reset is told once")

        # Replaced: another board (an ESP8266) answers at the same address.
        board.stop()
        board = Sim(password, profile="esp8266", port=board.port)
        reply, out = k.run("print('two')")
        err = streams(out, "stderr")
        notice = [l for l in err.splitlines() if l.startswith("A different board answers at %s" % url)]
        check(reply["status"] == "ok" and streams(out, "stdout") == "two\n" and len(notice) == 1
              and "esp8266" in notice[0] and "esp32" in notice[0],
              "a replaced board is told in one line: %r" % err)
        reply, out = k.run("%board")
        check("Port:      esp8266" in streams(out, "stdout"), "%board names the new board")

        # The same board with other firmware (flashed between two cells).
        board.stop()
        board = Sim(password, profile="esp8266", port=board.port, firmware="1.27")
        reply, out = k.run("print('flashed')")
        err = streams(out, "stderr")
        notice = [l for l in err.splitlines() if l.startswith("The board's firmware changed since the last cell")]
        check(reply["status"] == "ok" and streams(out, "stdout") == "flashed\n" and len(notice) == 1
              and "1.28.0 → MicroPython 1.27.0" in notice[0] and "A different board" not in err,
              "new firmware is told in one line: %r" % err)

        # Gone for good: reconnecting lines within the cell, then one named, printable cause.
        board.stop()
        reply, out = k.run("print(3)")
        err = streams(out, "stderr")
        lines = reconnect_lines(err, url)
        first = next((at for t, c, at in out if t == "stream" and "reconnecting to" in c["text"]), None)
        inputs = next(at for t, c, at in out if t == "execute_input")
        check(reply["status"] == "error" and reply["ename"] == "ConnectionError" and printable(reply["evalue"])
              and "gave up after" in reply["evalue"] and url in reply["evalue"] and "unreachable" in reply["evalue"],
              "a board that is gone ends the cell with one named line: %s: %s" % (reply["ename"], reply["evalue"]))
        check(len(lines) >= 2 and [int(n) for n in lines] == list(range(int(lines[0]), int(lines[0]) + len(lines)))
              and first is not None and first - inputs < RECONNECT_TIMEOUT / 2,
              "one reconnecting line per attempt (%s), the first %.1fs into the cell"
              % (", ".join(lines), (first or 0) - inputs))
        errors = [c for t, c, _ in out if t == "error"]
        check(len(errors) == 1 and all(printable(l) for l in re.sub(r"\x1b\[[0-9;]*m", "", "".join(errors[0]["traceback"])).splitlines()),
              "one error output, printable")

        # Could not connect: one line; a password typed where the URL goes is not echoed.
        reply, out = k.run("%%connect ws://127.0.0.1:1/ --password %s\nprint(1)" % password)
        check(reply["status"] == "error" and reply["ename"] == "ConnectionError" and printable(reply["evalue"])
              and "unreachable" in reply["evalue"], "an unreachable board: %s: %s" % (reply["ename"], reply["evalue"]))
        reply, out = k.run("%%connect %s %s" % (url, stray))
        check(reply["status"] == "error" and reply["ename"] == "UsageError" and stray not in reply["evalue"],
              "a stray argument is refused without being echoed: %s" % reply["evalue"])

        # A wrong password, then the right one typed with --password=.
        board = Sim(password, port=board.port)
        reply, out = k.run("%%connect %s --password %s\nprint(1)" % (url, wrong))
        check(reply["status"] == "error" and "wrong WebREPL password" in reply["evalue"], "a wrong password: %s" % reply["evalue"])
        reply, out = k.run("%%connect %s --password=%s\nprint('in again')" % (url, password))
        check(reply["status"] == "ok" and streams(out, "stdout") == "in again\n", "--password=PW connects")

        # History keeps the cells, with the passwords masked.
        history = []
        for kind in ({"hist_access_type": "tail", "n": 100}, {"hist_access_type": "range", "start": 1},
                     {"hist_access_type": "search", "pattern": "*connect*"}):
            h = k.request(lambda: k.kc.history(raw=True, output=True, **kind))
            check(h["status"] == "ok" and h["history"], "history %s answers" % kind["hist_access_type"])
            history.append(json.dumps(h))
        check(any("--password ********" in h for h in history) and any("--password=********" in h for h in history),
              "history shows %connect with the password masked")
        for name, secret in (("password", password), ("wrong password", wrong)):
            check(all(secret not in h for h in history), "the %s is in no history reply" % name)
    finally:
        log = k.close()
        board.stop()
    everything = json.dumps([m["content"] for m in k.seen], default=str)
    check(len(k.seen) > 50 and "execute_input" in json.dumps([m["msg_type"] for m in k.seen]),
          "messages were kept (%d)" % len(k.seen))
    for name, secret in (("password", password), ("wrong password", wrong)):
        check(secret not in everything, "the %s is in no message of any channel (execute_input included)" % name)
    check("webrepl: connected to %s" % url in log and "reconnect attempt" in log,
          "the debug log was on (%d lines)" % log.count("\n"))
    for name, secret in (("password", password), ("wrong password", wrong)):
        check(secret not in log, "the %s is in no line of the debug log" % name)
    print("connect tests passed")


if __name__ == "__main__":
    sys.exit(main())
