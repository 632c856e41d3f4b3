"""jupyter_kernel_test 0.7.0 (pinned in tests/requirements.txt) against
webrepl-kernel and a board.

Run by run.sh, which installs the kernel into a temporary JUPYTER_DATA_DIR
with the board's URL and password: a simulated ESP32, or, with
WEBREPL_TEST_BOARD=realmp, real MicroPython's unix port (../shared/realmp).
That board cannot do everything (its README says what): the tests it cannot
pass are skipped by name (REALMP_CANNOT), each with its reason.

The kernel is fresh when the generic tests start: no cell runs in setUpClass,
so test_error is the first test that executes a cell (test_completion, which
sorts before it, asks the host only), as when a user's first cell fails.

Every generic test runs; test_display_data and test_clear_output display
from board code (the module jupyter, README "Displays and plots") and run
right after test_error (load_tests). IopubWelcomeTests runs when the kernel
declares protocol 5.5, whose iopub is XPUB and greets each subscriber with
iopub_welcome (JEP 65); a kernel that declares less is skipped with its version.
"""

import functools
import os
import re
import time
import unittest
from queue import Empty

import jupyter_kernel_test
from jupyter_kernel_test.msgspec_v5 import validate_message

TIMEOUT = 30
BOARD = os.environ.get("WEBREPL_TEST_BOARD", "sim")

# What ../shared/realmp cannot do (its README), by test name, with the reason.
REALMP_CANNOT = {
    "test_webrepl_interrupt_stops_a_running_loop":
        "Ctrl-C over WebREPL does not interrupt running code on the unix port",
    "test_webrepl_inspect_and_complete_machine_pin": "the unix port has no machine.Pin",
}


def skip_what_the_board_cannot(cls):
    """On realmp, skips each test REALMP_CANNOT names (a name that matches no
    test is an error, so the list cannot go stale)."""
    if BOARD == "realmp":
        for name, reason in REALMP_CANNOT.items():
            setattr(cls, name, unittest.skip("realmp: " + reason)(getattr(cls, name)))
    return cls


def page_text(reply):
    """The text of an execute_reply's one "page" payload (IPython's pager)."""
    pages = [p for p in reply["content"].get("payload", []) if p.get("source") == "page"]
    if len(pages) != 1:
        raise AssertionError(f"expected one page payload, got {reply['content'].get('payload')}")
    return pages[0]["data"]["text/plain"]


@skip_what_the_board_cannot
class MicroPythonWebREPLKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "micropython-webrepl"
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_generate_error = "raise ValueError('x')"
    # On the board stderr shares the console; the kernel's print frames it.
    code_stderr = "import sys; print('oops', file=sys.stderr)"
    # Out[n]: the value of the cell's last expression, repr'd on the board.
    code_execute_result = [
        {"code": "1+2", "result": "3"},
        {"code": "x = [1, 2]\nx", "result": "[1, 2]"},
        {"code": "'ab' * 2", "result": "'abab'"},
        {"code": "import sys\nsys.implementation.name", "result": "'micropython'"},
        {"code": "b'\\x00\\x02'", "result": "b'\\x00\\x02'"},
    ]
    code_history_pattern = "1?2"
    supported_history_operations = ("tail", "range", "search")

    # Shift-Enter in the JupyterLab console and jupyter console ask is_complete:
    # incomplete adds a line (with the indent given), complete and invalid run.
    complete_code_samples = [
        "1",
        "print('hello, world')",
        "def f(x):\n  return x*2\n\n\n",
        "x = [1,\n     2]",
        "from micropython import *",
        "try:\n    x\nexcept ValueError:\n    pass\n",
        "len?",  # help, and magics, are the kernel's, not Python
        "%lsmagic",
        "%%writefile a.py\nprint(1)\n\n",  # a cell magic ends with a blank line
    ]
    incomplete_code_samples = [
        "print('''hello",
        "def f(x):\n  x*2",
        "for i in range(3):",
        "x = [1,",
        "y = 1 + \\",
        "if x:\n    y = [1,",
        "@micropython.native",
        "try:\n    x\n",
        "%connect ws://192.168.4.1:8266/\nwhile True:",
        "%%writefile a.py\nprint(1)",
    ]
    invalid_code_samples = [
        "import = 7q", ")", "x = (1, 2]", "x = 1)",  # brackets
        "  x = 1", "if x:\ny = 1", "if x:\n        a\n    b",  # indentation
        "x = 1 +", "import", "x = 1 if",  # a statement that cannot end there
        "try:\n    x\ny = 1", "a = $b",
    ]

    # Magics and keywords complete on the host, so these hold before any
    # cell ran (test_completion runs first); board names: see
    # test_webrepl_completion_from_the_board.
    completion_samples = [
        {"text": "%con", "matches": ["%connect"]},
        {"text": "%dis", "matches": ["%disconnect"]},
        {"text": "%soft", "matches": ["%softreset"]},
        {"text": "%", "matches": ["%board", "%connect", "%disconnect", "%hardreset", "%lsmagic", "%softreset",
                                  "%ls", "%cat", "%put", "%get", "%rm", "%mkdir", "%%writefile", "%run", "%%plot",
                                  "%sync", "%mip"]},
        {"text": "whi", "matches": ["while"]},
        {"text": "x = 1 + imp", "matches": ["import"]},
        {"text": "if x: con", "matches": ["continue"]},
    ]
    # Shift-Tab asks the connected board; test_inspect connects first.
    code_inspect_sample = "print"
    # obj? as a cell: the inspection as IPython's "page" payload.
    code_page_something = "len?"

    # Board code displays through the module jupyter the kernel defines on
    # the board (README, "Displays and plots"); %%plot draws an SVG chart.
    code_display_data = [
        {"code": "from jupyter import display, HTML\ndisplay(HTML('<b>hi</b>'))", "mime": "text/html"},
        {"code": "from jupyter import display, Markdown\ndisplay(Markdown('# hi'))", "mime": "text/markdown"},
        {"code": "from jupyter import display, JSON\ndisplay(JSON({'a': [1, 2]}))", "mime": "application/json"},
        {"code": "from jupyter import display, Image\ndisplay(Image(b'\\x89PNG\\r\\n\\x1a\\n' + bytes(16)))",
         "mime": "image/png"},
        {"code": "from jupyter import plot\nplot(1, temp=21.5)", "mime": "image/svg+xml"},
        {"code": "%%plot\nfor i in range(5):\n    print(i, i * i)", "mime": "image/svg+xml"},
    ]
    code_clear_output = "from jupyter import clear_output\nprint('x')\nclear_output(wait=True)"

    def _run(self, code, **kwargs):
        msg_id = self.kc.execute(code, **kwargs)
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        outputs = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            validate_message(msg, msg["msg_type"], msg_id)
            if msg["msg_type"] == "status":
                if msg["content"]["execution_state"] == "idle":
                    break
                continue
            outputs.append(msg)
        return reply, outputs

    # --- webrepl-kernel specific tests ---

    # --- generic tests that need more than the base class does ---

    def test_error(self):
        # Named test_error so that it sorts before every other test that
        # runs a cell: the base test (exactly one output, the error) then
        # checks a first cell, which connects, shows only its own output.
        super().test_error()
        msg_id = self.kc.history(hist_access_type="tail", n=1000, output=False, raw=True)
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "history_reply", msg_id)
        inputs = [h[2] for h in reply["content"]["history"]]
        self.assertEqual(inputs, [self.code_generate_error], "test_error was not the first cell of the kernel")

    def test_inspect(self):
        self._run("pass")  # Shift-Tab never connects: a cell does
        super().test_inspect()

    def test_webrepl_traceback_has_cell_line_numbers(self):
        self.flush_channels()
        reply, outputs = self._run("a = 1\nb = 0\na / b\n")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual([m["msg_type"] for m in outputs if m["msg_type"] != "execute_input"], ["error"])
        err = outputs[-1]["content"]
        self.assertEqual(err["ename"], "ZeroDivisionError")
        self.assertEqual(err["evalue"], "divide by zero")
        self.assertRegex("\n".join(err["traceback"]), r"Cell In\[\d+\], line 3\n    a / b\n")
        self.assertNotIn("line 1,", "\n".join(err["traceback"]))

    def test_webrepl_state_survives_between_cells(self):
        self.flush_channels()
        self._run("counter = 41")
        reply, outputs = self._run("counter += 1\nprint(counter)")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("42", "".join(m["content"].get("text", "") for m in outputs))

    def test_webrepl_silent_and_store_history(self):
        self.flush_channels()
        reply, _ = self._run("pass")
        count = reply["content"]["execution_count"]
        reply, outputs = self._run("print('quiet')", silent=True)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(outputs, [])
        reply, outputs = self._run("print('not stored')", store_history=False)
        self.assertEqual(reply["content"]["execution_count"], count)
        self.assertIn("not stored", "".join(m["content"].get("text", "") for m in outputs))
        reply, _ = self._run("pass")
        self.assertEqual(reply["content"]["execution_count"], count + 1)

    def test_webrepl_stop_on_error_aborts_queued_cells(self):
        self.flush_channels()
        failing = self.kc.execute("import time\ntime.sleep(0.5)\n1/0")
        queued = self.kc.execute("print('must not run')")
        replies = {}
        while len(replies) < 2:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
        self.assertEqual(replies[failing], "error")
        self.assertEqual(replies[queued], "aborted")
        reply, outputs = self._run("print('runs again')")
        self.assertEqual(reply["content"]["status"], "ok")

    def test_webrepl_interrupt_stops_a_running_loop(self):
        self.flush_channels()
        msg_id = self.kc.execute("import time\nprint('started')\nwhile True:\n    time.sleep(0.1)\n")
        # Output shows while the loop runs.
        deadline = time.monotonic() + TIMEOUT
        while True:
            self.assertLess(time.monotonic(), deadline, "no output from the running cell")
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except Empty:
                continue
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream"
                    and "started" in msg["content"]["text"]):
                break
        self.km.interrupt_kernel()  # interrupt_mode "message": an interrupt_request
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        reply, outputs = self._run("print('alive')")
        self.assertEqual(reply["content"]["status"], "ok")

    def test_webrepl_input_reads_from_the_frontend(self):
        self.flush_channels()
        msg_id = self.kc.execute("name = input('name? ')\nprint('hi', name)", allow_stdin=True)
        request = self.kc.get_stdin_msg(timeout=TIMEOUT)
        self.kc.input("Ada")  # answer first: a failed check must not leave the cell waiting
        # (Not validate_message: jupyter_kernel_test 0.7.0's schema wants password to be a
        # number; the protocol says boolean, as ipykernel sends.)
        self.assertEqual(request["msg_type"], "input_request")
        self.assertEqual(request["parent_header"]["msg_id"], msg_id)
        self.assertEqual(request["content"], {"prompt": "name? ", "password": False})
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["content"]["status"], "ok")
        text = ""
        while True:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            if msg["msg_type"] == "stream":
                text += msg["content"]["text"]
        self.assertEqual(text, "hi Ada\n")

    def test_webrepl_lsmagic(self):
        self.flush_channels()
        reply, outputs = self._run("%lsmagic")
        self.assertEqual(reply["content"]["status"], "ok")
        text = "".join(m["content"].get("text", "") for m in outputs)
        for name in ("%connect", "%disconnect", "%lsmagic"):
            self.assertIn(name, text)

    def test_webrepl_inspect_and_comms(self):
        self.flush_channels()
        self._run("pass")
        msg_id = self.kc.inspect("no_such_name_here", 5)
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "inspect_reply", msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertFalse(reply["content"]["found"])
        msg_id = self.kc.comm_info()
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "comm_info_reply", msg_id)
        self.assertEqual(reply["content"]["comms"], {})

    def _iopub_until_idle(self, msg_id):
        """The iopub messages of one request up to its idle (comm messages,
        which jupyter_kernel_test has no schema for, included)."""
        got = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return got
            if msg["msg_type"] != "status":
                got.append(msg)

    def test_webrepl_widgets(self):
        """Board widgets over the ipywidgets 8 comm protocol (README "Widgets"),
        as jupyter_client sees them: the comms of a slider with the protocol
        version in their metadata, its view, comm_info, request_states on the
        control comm, an update echoed and read by the board. It sorts after
        test_webrepl_inspect_and_comms, which expects no comms yet."""
        self.flush_channels()
        msg_id = self.kc.execute("from jupyter.widgets import IntSlider\ns = IntSlider(0, 10, value=2)")
        outputs = self._iopub_until_idle(msg_id)
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["content"]["status"], "ok")
        opens = [m for m in outputs if m["msg_type"] == "comm_open"]
        self.assertEqual(len(opens), 3, outputs)
        for m in opens:
            self.assertEqual(m["metadata"], {"version": "2.1.0"})
            self.assertEqual(m["content"]["target_name"], "jupyter.widget")
        views = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
        self.assertEqual(len(views), 1, outputs)
        view = views[0]["application/vnd.jupyter.widget-view+json"]
        self.assertEqual((view["version_major"], view["version_minor"]), (2, 1))
        self.assertEqual(views[0]["text/plain"], "IntSlider(value=2)")
        model_id = view["model_id"]

        msg_id = self.kc.comm_info(target_name="jupyter.widget")
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "comm_info_reply", msg_id)
        self.assertEqual(set(reply["content"]["comms"]), {m["content"]["comm_id"] for m in opens})

        control = self.kc.session.msg("comm_open", {"comm_id": "control-1", "target_name": "jupyter.widget.control", "data": {}})
        self.kc.shell_channel.send(control)
        self._iopub_until_idle(control["header"]["msg_id"])
        ask = self.kc.session.msg("comm_msg", {"comm_id": "control-1", "data": {"method": "request_states"}})
        self.kc.shell_channel.send(ask)
        answer = [m for m in self._iopub_until_idle(ask["header"]["msg_id"]) if m["msg_type"] == "comm_msg"]
        self.assertEqual(len(answer), 1)
        states = answer[0]["content"]["data"]["states"]
        self.assertEqual(states[model_id]["model_name"], "IntSliderModel")
        self.assertEqual(states[model_id]["state"]["value"], 2)

        update = self.kc.session.msg("comm_msg", {"comm_id": model_id,
            "data": {"method": "update", "state": {"value": 7}, "buffer_paths": []}})
        self.kc.shell_channel.send(update)
        echoes = [m["content"]["data"] for m in self._iopub_until_idle(update["header"]["msg_id"])
                  if m["msg_type"] == "comm_msg"]
        self.assertEqual(echoes, [{"method": "echo_update", "state": {"value": 7}, "buffer_paths": []}])
        reply, outputs = self._run("print(s.value)")
        self.assertEqual("".join(m["content"].get("text", "") for m in outputs), "7\n")

    def _inspect(self, code, detail=0):
        msg_id = self.kc.inspect(code, len(code), detail)
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "inspect_reply", msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        if not reply["content"]["found"]:
            return None
        return reply["content"]["data"]["text/plain"]

    def _complete(self, code):
        msg_id = self.kc.complete(code, len(code))
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        validate_message(reply, "complete_reply", msg_id)
        return reply["content"]["matches"]

    def test_webrepl_inspect_a_user_function(self):
        self.flush_channels()
        reply, _ = self._run(
            "calls = []\n"
            "def scaled(reading, factor=2,\n"
            "           offset=0):\n"
            "    \"\"\"Scale a sensor reading.\"\"\"\n"
            "    calls.append(reading)\n"
            "    return reading * factor + offset\n")
        self.assertEqual(reply["content"]["status"], "ok")
        # Shift-Tab inside the call's parentheses asks about the function.
        text = self._inspect("y = scaled(3, ")
        self.assertIsNotNone(text, "a function defined in a cell was not found")
        self.assertRegex(text, r"Signature: +scaled\(reading, factor=2, offset=0\)\n")
        self.assertRegex(text, r"Docstring: +Scale a sensor reading\.\n")
        self.assertRegex(text, r"Type: +function\n")
        source = self._inspect("scaled", 1)
        self.assertRegex(source, r"Source: +def scaled\(reading, factor=2,\n")
        self.assertIn("return reading * factor + offset", source)
        # scaled? and scaled?? as cells: the same texts, as the pager's payload.
        for cell, want in (("scaled?", text), ("scaled??", source), ("?scaled", text)):
            reply, outputs = self._run(cell)
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertEqual(page_text(reply), want, cell)
            self.assertEqual([m["msg_type"] for m in outputs], ["execute_input"], cell)
        reply, outputs = self._run("no_such_name_here?")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual("".join(m["content"].get("text", "") for m in outputs),
                         "Object `no_such_name_here` not found.\n")
        self.assertIsNone(self._inspect("scaled.nope"))
        # A class and its instance: the class's docstring comes from its cell
        # (realmp's MicroPython keeps no class docstrings either).
        reply, _ = self._run("class Probe:\n    'Reads the probe.'\n    def __init__(self, pin, gain=1):\n"
                             "        self.pin = pin\n    def level(self, scale=1):\n        return scale\n\nprobe = Probe(5)\n")
        self.assertEqual(reply["content"]["status"], "ok")
        text = self._inspect("Probe")
        self.assertRegex(text, r"Init signature: Probe\(pin, gain=1\)\n")
        self.assertRegex(text, r"Docstring: +Reads the probe\.\n")
        text = self._inspect("probe")
        self.assertRegex(text, r"Type: +Probe\n")
        self.assertRegex(text, r"Docstring: +Reads the probe\.\n")
        self.assertRegex(text, r"Members: +level, pin\n")
        # A method comes from its class's cell; bound to probe, without self.
        self.assertRegex(self._inspect("probe.level"), r"Signature: +level\(scale=1\)\n")
        self.assertRegex(self._inspect("Probe.level"), r"Signature: +level\(self, scale=1\)\n")
        # Inspection evaluated names only: the function never ran.
        reply, outputs = self._run("print(calls)")
        self.assertEqual("".join(m["content"].get("text", "") for m in outputs), "[]\n")

    def test_webrepl_inspect_and_complete_machine_pin(self):
        self.flush_channels()
        self._run("import machine")
        text = self._inspect("machine.Pin")
        self.assertIsNotNone(text)
        self.assertRegex(text, r"Type: +type\n")
        members = re.search(r"Members: +(.*)\n", text).group(1).split(", ")
        for name in ("on", "off", "value", "init", "irq", "IN", "OUT"):
            self.assertIn(name, members)
        self.assertFalse([m for m in members if m.startswith("_")], text)
        names = self._complete("machine.Pin.")
        self.assertIn("machine.Pin.value", names)
        self.assertFalse([n for n in names if n.startswith("machine.Pin._")], names)
        self.assertEqual(set(self._complete("machine.Pin.o")), {"machine.Pin.on", "machine.Pin.off"})

    def test_webrepl_completion_from_the_board(self):
        self.flush_channels()
        reply, _ = self._run("class Led:\n    _level = 0\n    def on(self): pass\n    def off(self): pass\n")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(self._complete("pri"), ["print"])
        # _private and __dunder__ names only when the prefix asks for them.
        self.assertEqual(set(self._complete("Led.")), {"Led.on", "Led.off"})
        private = self._complete("Led._")
        self.assertIn("Led._level", private)
        self.assertIn("Led.__name__", private)
        self.assertEqual(self._complete("Led.__na"), ["Led.__name__"])

    def test_webrepl_exit_and_quit_ask_the_frontend_to_leave(self):
        self.flush_channels()
        for cell in ("exit", "quit", "exit()", "quit()"):
            reply, outputs = self._run(cell)
            self.assertEqual(reply["content"]["status"], "ok", cell)
            self.assertEqual(reply["content"]["payload"], [{"source": "ask_exit", "keepkernel": False}], cell)
            self.assertEqual([m["msg_type"] for m in outputs], ["execute_input"], cell)
        reply, _ = self._run("exit(keep_kernel=True)")
        self.assertEqual(reply["content"]["payload"], [{"source": "ask_exit", "keepkernel": True}])
        # Only the frontend leaves: the kernel and the board carry on.
        reply, outputs = self._run("print('still here')")
        self.assertEqual("".join(m["content"].get("text", "") for m in outputs), "still here\n")

def protocol_version(kc):
    """The messaging protocol version the kernel declares in kernel_info, as
    a tuple; asked on shell only, so iopub has not subscribed yet."""
    msg_id = kc.kernel_info()
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    return tuple(int(p) for p in reply["content"]["protocol_version"].split("."))


class MicroPythonWebREPLIopubWelcomeTests(jupyter_kernel_test.IopubWelcomeTests):
    """Protocol 5.5: the first message a new iopub subscriber gets is its
    iopub_welcome. The base test waits for it without a limit: here the wait
    is bounded, so a kernel that declares 5.5 and sends no welcome fails."""
    kernel_name = "micropython-webrepl"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.declared = protocol_version(cls.kc)
        cls.support_iopub_welcome = cls.declared >= (5, 5)
        cls.kc.get_iopub_msg = functools.partial(type(cls.kc).get_iopub_msg, cls.kc, timeout=TIMEOUT)

    def test_recv_iopub_welcome_msg(self):
        if not self.support_iopub_welcome:
            self.skipTest("the kernel declares protocol %s: iopub is PUB, without iopub_welcome (5.5, JEP 65)"
                          % ".".join(map(str, self.declared)))
        super().test_recv_iopub_welcome_msg()


def load_tests(loader, tests, pattern):
    """The unittest load_tests protocol: the tests in their usual order (by
    class, then name), except that test_clear_output and test_display_data,
    which run cells, come right after test_error, which must be the kernel's
    first cell."""
    flat = []

    def walk(suite):
        for t in suite:
            if isinstance(t, unittest.TestSuite):
                walk(t)
            else:
                flat.append(t)

    walk(tests)
    late = [t for t in flat if isinstance(t, MicroPythonWebREPLKernelTests)
            and t._testMethodName in ("test_clear_output", "test_display_data")]
    ordered = []
    for t in flat:
        if t in late:
            continue
        ordered.append(t)
        if isinstance(t, MicroPythonWebREPLKernelTests) and t._testMethodName == "test_error":
            ordered.extend(late)
            late = []
    return unittest.TestSuite(ordered + late)


if __name__ == "__main__":
    unittest.main()
