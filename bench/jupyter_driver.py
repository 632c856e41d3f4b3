"""Drives webrepl-kernel processes through the pinned jupyter_client (.venv/) for `make bench`.

The Go bench program (bench/main.go) starts the kernels and the boards; this process is the
Jupyter frontend. It reads one JSON command per line on stdin and answers each with one JSON
line on stdout, tagged with the command's "tag". Commands for different kernels run at the same
time (one thread per kernel); commands for one kernel run in order.

  {"tag": 1, "op": "connect", "kernel": "k1", "connection_file": "..."}
      -> {"tag": 1, "ready_wall": <time.time() when kernel_info_reply arrived>}
  {"tag": 2, "op": "execute", "kernel": "k1", "code": "...", "marker": "..."}
      -> {"tag": 2, "status": "ok", "stdout": "...", "stderr": "...", "error": "",
          "marker_s": <seconds from sending the request to the stdout holding marker>,
          "reply_s": <seconds to execute_reply>,
          "streams": [[<time.time() at arrival>, "<text>"], ...],
          "displays": [[<time.time() at arrival>, "display_data" or "update_display_data",
                        "<its text/plain>"], ...],
          "iopub": <messages of the cell on iopub, status included>,
          "comms": [["<comm_id>", "<state._model_name>"], ...] (comm_open messages)}
  {"tag": 3, "op": "comm_update", "kernel": "k1", "comm_id": "...", "state": {...}}
      -> {"tag": 3, "sent_wall": <time.time() just before the comm_msg went>, "idle_s": <seconds
          until the kernel's idle status for it>}
      (a widget's change from the frontend, between cells: ipywidgets' "update" method)
  {"tag": 4, "op": "shutdown", "kernel": "k1"} -> {"tag": 4}

Any failure answers {"tag": n, "fail": "<one line>"}.
"""

import json
import queue
import sys
import threading
import time

from jupyter_client import BlockingKernelClient

TIMEOUT = 300  # seconds for one command; the 8 KB cell on a slow link takes a few


class Kernel:
    def __init__(self, name):
        self.name = name
        self.client = None
        self.commands = queue.Queue()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            cmd = self.commands.get()
            try:
                answer = getattr(self, "op_" + cmd["op"])(cmd)
            except Exception as e:  # reported, the driver goes on
                answer = {"fail": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")}
            answer["tag"] = cmd["tag"]
            emit(answer)

    def op_connect(self, cmd):
        c = BlockingKernelClient()
        c.load_connection_file(cmd["connection_file"])
        c.start_channels()
        c.wait_for_ready(timeout=TIMEOUT)
        ready = time.time()
        self.client = c
        return {"ready_wall": ready}

    def op_execute(self, cmd):
        c = self.client
        marker = cmd.get("marker") or ""
        start = time.monotonic()
        msg_id = c.execute(cmd["code"], allow_stdin=False, stop_on_error=True)
        stdout, stderr, streams, error = [], [], [], ""
        displays, comms, count = [], [], 0
        marker_s = None
        deadline = start + TIMEOUT
        idle = False
        while not idle:
            msg = c.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            count += 1
            if kind in ("display_data", "update_display_data"):
                displays.append([time.time(), kind, content.get("data", {}).get("text/plain", "")])
            elif kind == "comm_open":
                state = content.get("data", {}).get("state", {})
                comms.append([content.get("comm_id"), state.get("_model_name", "")])
            elif kind == "stream":
                now = time.monotonic()
                streams.append([time.time(), content["text"]])
                (stdout if content["name"] == "stdout" else stderr).append(content["text"])
                if marker_s is None and marker and marker in "".join(stdout):
                    marker_s = now - start
            elif kind == "error":
                error = "%s: %s" % (content.get("ename"), content.get("evalue"))
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
        reply = c.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = c.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        reply_s = time.monotonic() - start
        return {
            "status": reply["content"].get("status"),
            "stdout": "".join(stdout),
            "stderr": "".join(stderr),
            "error": error,
            "marker_s": marker_s,
            "reply_s": reply_s,
            "streams": streams,
            "displays": displays,
            "iopub": count,
            "comms": comms,
        }

    def op_comm_update(self, cmd):
        c = self.client
        msg = c.session.msg("comm_msg", {"comm_id": cmd["comm_id"],
                                         "data": {"method": "update", "state": cmd["state"], "buffer_paths": []}})
        start = time.monotonic()
        sent = time.time()
        c.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        deadline = start + TIMEOUT
        while True:
            m = c.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                    and m["content"].get("execution_state") == "idle"):
                break
        return {"sent_wall": sent, "idle_s": time.monotonic() - start}

    def op_shutdown(self, cmd):
        if self.client is not None:
            try:
                self.client.shutdown()
                self.client.get_shell_msg(timeout=10)
            except Exception:
                pass  # the Go side kills what does not exit
            self.client.stop_channels()
            self.client = None
        return {}


_out = threading.Lock()


def emit(answer):
    with _out:
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main():
    kernels = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            name = cmd["kernel"]
        except (ValueError, KeyError) as e:
            emit({"tag": -1, "fail": "bad command: %s" % e})
            continue
        if name not in kernels:
            kernels[name] = Kernel(name)
        kernels[name].commands.put(cmd)


if __name__ == "__main__":
    main()
