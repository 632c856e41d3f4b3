"""What a program prints reaches the notebook, byte for byte, and a cell ends
when its program ends (issue 9 items 4 and 5), through jupyter_client against
the kernel installed by run.sh. The kernel is WEBREPL_TEST_KERNEL (default
micropython-webrepl); run.sh runs this file against the simulated board and,
when ../shared/realmp is there, against real MicroPython."""

import os
import queue
import re
import sys
import time
import unittest

import zmq
from jupyter_client.manager import KernelManager, start_new_kernel
from jupyter_client.session import Session

from test_client import run

TIMEOUT = 60
KERNEL = os.environ.get("WEBREPL_TEST_KERNEL", "micropython-webrepl")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Output(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=False)

    def run_cell(self, code):
        """Execute code; return (reply content, [(msg_type, content)])."""
        return run(self.kc, code, timeout=TIMEOUT)

    def stream(self, outputs, name="stdout"):
        return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == name)

    def results(self, outputs):
        return [c["data"]["text/plain"] for t, c in outputs if t == "execute_result"]

    def assert_prints_exactly(self, text):
        """A cell printing text shows it exactly, and the next cell runs."""
        reply, out = self.run_cell("print(%r)\nprint('after')" % text)
        self.assertEqual(reply["status"], "ok", out)
        self.assertEqual(self.stream(out), text + "\nafter\n")
        self.assertEqual(self.results(out), [])
        reply, out = self.run_cell("6 * 7")
        self.assertEqual((reply["status"], self.results(out)), ("ok", ["42"]), out)

    def test_control_bytes(self):
        # The raw REPL's own bytes: the end of output (0x04), its prompt,
        # its OK, raw mode (0x01) and friendly mode (0x02), together too.
        for text in ["\x04", ">", "OK", "\x01", "\x02", "\x04\x04>", "OK\x04\x04>", "a\x04b\x04>c", "\x03", "\x05A\x01"]:
            with self.subTest(text=text):
                self.assert_prints_exactly(text)

    def test_cell_ends_with_its_program(self):
        # 'OK\x04\x04>' used to end the cell while the board still ran it.
        reply, out = self.run_cell("import time\nprint('OK\\x04\\x04>', end='')\ntime.sleep(0.3)\nprint('still running')\n7")
        self.assertEqual(reply["status"], "ok", out)
        self.assertEqual(self.stream(out), "OK\x04\x04>still running\n")
        self.assertEqual(self.results(out), ["7"])

    def test_old_and_forged_markers(self):
        # The kernel's markers of old, and text shaped like today's with a
        # token that is not the cell's: neither makes an Out[], hides text,
        # or holds output back.
        forged = "\x02R0123456789abcdef\x03"
        for text in ["\x02R\x0299\x02E\x02", "\x02S\x02err\x02T\x02", "\x02I\x02prompt\x02J\x02", "\x02R\x02",
                     forged + "99" + forged.replace("R", "E"), "\x02Z0123456789abcdef\x03", "\x02X0123456789abcdef\x03", "\x02R\x03"]:
            with self.subTest(text=text):
                self.assert_prints_exactly(text)

    def test_exception_message_with_control_bytes(self):
        reply, out = self.run_cell("raise ValueError('a\\x04b\\x04>c')")
        errors = [c for t, c in out if t == "error"]
        self.assertEqual(reply["status"], "error")
        self.assertEqual(len(errors), 1, out)
        # Whole, and printable: control characters are shown as escapes.
        self.assertEqual((errors[0]["ename"], errors[0]["evalue"]), ("ValueError", "a\\x04b\\x04>c"))
        reply, out = self.run_cell("1 + 1")
        self.assertEqual(self.results(out), ["2"])

    def test_stderr_and_values_still_framed(self):
        reply, out = self.run_cell("import sys\nprint('to err\\x04', file=sys.stderr)\nprint('to out')\n'v\\x04'")
        self.assertEqual(reply["status"], "ok", out)
        self.assertEqual(self.stream(out, "stderr"), "to err\x04\n")
        self.assertEqual(self.stream(out), "to out\n")
        self.assertEqual(self.results(out), ["'v\\x04'"])

    def test_trailing_semicolon_hides_the_value(self):
        reply, out = self.run_cell("3 + 4;")
        self.assertEqual((reply["status"], self.results(out)), ("ok", []), out)
        reply, out = self.run_cell("3 + 4;  # a comment")
        self.assertEqual(self.results(out), [])
        reply, out = self.run_cell("x = 5\nx + 1")
        self.assertEqual(self.results(out), ["6"])
        reply, out = self.run_cell("';'")  # a ';' inside a string is a value
        self.assertEqual(self.results(out), ["';'"])

    def test_input_answer_with_control_characters(self):
        # The board's line editor would act on them (Ctrl-C interrupts,
        # Tab completes): they are removed, and the cell says which.
        kc = self.kc
        msg_id = kc.execute("s = input('? ')\nprint(repr(s))", allow_stdin=True)
        ask = kc.get_stdin_msg(timeout=TIMEOUT)
        self.assertEqual(ask["content"]["prompt"], "? ")
        kc.input("A\tB\x03C")
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        out = []
        while True:
            msg = kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            out.append((msg["msg_type"], msg["content"]))
        self.assertEqual(self.stream(out), "'ABC'\n")
        self.assertIn("removed from the answer: '\\t' '\\x03'", self.stream(out, "stderr"))

    def traceback(self, out):
        errors = [c for t, c in out if t == "error"]
        self.assertEqual(len(errors), 1, out)
        return ANSI.sub("", "\n".join(errors[0]["traceback"]))

    def test_traceback_names_cells(self):
        reply, out = self.run_cell("def wk_half(x):\n    return x / 0\n")
        defined = reply["execution_count"]
        reply, out = self.run_cell("y = 1\nwk_half(y)")
        tb = self.traceback(out)
        count = reply["execution_count"]
        self.assertIn("Cell In[%d], line 2\n    wk_half(y)\n" % count, tb)
        self.assertIn("Cell In[%d], line 2, in wk_half\n    return x / 0\n" % defined, tb)
        self.assertNotIn("<stdin>", tb)
        self.assertNotIn("__wk", tb)
        self.assertTrue(tb.rstrip().endswith("ZeroDivisionError: divide by zero"), tb)

    def test_syntax_error_names_the_cell(self):
        reply, out = self.run_cell("x = 1\ny = (2 +\n")
        tb = self.traceback(out)
        self.assertRegex(tb, r"Cell In\[%d\], line \d" % reply["execution_count"])
        self.assertIn("SyntaxError", tb)
        self.assertNotIn("<stdin>", tb)

    def test_board_files_keep_their_names(self):
        # (The unix port's sys.path lacks '', the current folder, which
        # holds the board's files.)
        reply, out = self.run_cell(
            "with open('wk_tbmod.py', 'w') as f:\n    f.write('def g():\\n    return [][1]\\n')\n"
            "import sys\nif '' not in sys.path:\n    sys.path.insert(0, '')\n"
            "sys.modules.pop('wk_tbmod', None)\nimport wk_tbmod\nwk_tbmod.g()")
        tb = self.traceback(out)
        self.assertIn('File "wk_tbmod.py", line 2, in g', tb)
        self.assertIn("Cell In[%d], line 8\n    wk_tbmod.g()" % reply["execution_count"], tb)
        self.run_cell("import os\nos.remove('wk_tbmod.py')")


def kernel_pid(km):
    process = getattr(km.provisioner, "process", None) if getattr(km, "provisioner", None) else None
    return process.pid if process is not None else km.kernel.pid


def peak_memory_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


class Flood(unittest.TestCase):
    """A cell printing without end while the frontend stops reading: the
    kernel reads the board no faster than it feeds the frontend, so its
    memory stays bounded, nothing is dropped, and after an interrupt the
    cell ends soon (issue 7 item 6)."""

    # Generous bounds for a loaded machine: memory and deadlines, not speed.
    MEMORY_BOUND_KIB = 64 * 1024
    END_AFTER_INTERRUPT = 10.0
    STALL = 15.0  # seconds the frontend takes nothing

    def test_flood_is_paced_by_the_frontend(self):
        if os.environ.get("WEBREPL_TEST_NO_INTERRUPT"):
            self.skipTest("this board cannot be interrupted over WebREPL")
        km = KernelManager(kernel_name=KERNEL)
        km.start_kernel()
        kc = km.client()
        # iopub is read through a SUB of our own whose receive queue holds
        # two messages, so that not reading it really stops taking output
        # (jupyter_client's would queue a thousand in this process).
        ctx = zmq.Context.instance()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.RCVHWM, 2)
        sub.setsockopt(zmq.RCVBUF, 64 * 1024)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        info = km.get_connection_info()
        sub.connect("%s://%s:%d" % (info["transport"], info["ip"], info["iopub_port"]))
        kc.start_channels(iopub=False)
        try:
            kc.wait_for_ready(timeout=TIMEOUT)
            self.flood(km, kc, sub)
        finally:
            sub.close(linger=0)
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    def flood(self, km, kc, sub):
        pid = kernel_pid(km)
        # A session of its own: kc's has already seen some of these
        # messages (wait_for_ready), and refuses a signature seen twice.
        session = Session(key=kc.session.key, signature_scheme=kc.session.signature_scheme)
        msg_id = kc.execute("i = 0\nwhile True:\n    print(i, 'x' * 200)\n    i += 1\n")
        text = []

        def read(seconds, until=lambda: False):
            end = time.monotonic() + seconds
            while time.monotonic() < end and not until():
                if not sub.poll(200):
                    continue
                _, frames = session.feed_identities(sub.recv_multipart())
                msg = session.deserialize(frames)
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                    text.append(msg["content"]["text"])

        read(TIMEOUT, until=lambda: text)  # the cell is running and printing
        self.assertTrue(text, "the flooding cell printed nothing in %s s" % TIMEOUT)
        time.sleep(self.STALL)  # a frontend that takes nothing for a while
        read(2)
        km.interrupt_kernel()
        interrupted = time.monotonic()
        reply = None
        while reply is None:
            read(0.2)
            try:
                msg = kc.get_shell_msg(timeout=0)
            except queue.Empty:
                self.assertLess(time.monotonic() - interrupted, 60, "no execute_reply within 60 s of the interrupt")
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg["content"]
        ended = time.monotonic() - interrupted
        peak = peak_memory_kib(pid)
        print("\nflood: %d bytes shown, cell ended %.2f s after the interrupt, kernel peak memory %d KiB"
              % (sum(map(len, text)), ended, peak), file=sys.stderr)
        self.assertEqual(reply["ename"], "KeyboardInterrupt", reply)
        self.assertNotIn("did not stop", reply["evalue"])  # the board stopped; the kernel did not give up
        self.assertLess(ended, self.END_AFTER_INTERRUPT)
        self.assertLess(peak, self.MEMORY_BOUND_KIB)
        # Every line, in order, none missing.
        lines = "".join(text).split("\n")
        numbers = [int(l.split()[0]) for l in lines if l.endswith("x" * 200)]
        self.assertGreater(len(numbers), 100)
        self.assertEqual(numbers[0], 0)
        self.assertEqual(numbers, list(range(len(numbers))))


if __name__ == "__main__":
    unittest.main(verbosity=2)
