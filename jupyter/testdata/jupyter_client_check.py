"""Drive a kernel served by the Go jupyter package with Debian's jupyter_client
(libzmq underneath). Usage: python3 jupyter_client_check.py CONNECTION_FILE
Prints one line per check and "ALL OK" at the end; exits non-zero on failure."""

import json
import sys

import zmq
from jupyter_client import BlockingKernelClient
from jupyter_client.session import Session

try:  # the same validator jupyter_kernel_test applies
    from jupyter_kernel_test.msgspec_v5 import validate_message
except ImportError:
    def validate_message(msg, msg_type=None, parent_id=None):
        pass

TIMEOUT = 20


def fail(what):
    print("FAIL:", what)
    sys.exit(1)


def endpoint(info, port):
    if info["transport"] == "ipc":
        return "ipc://%s-%d" % (info["ip"], port)
    return "tcp://%s:%d" % (info["ip"], port)


def recv(session, sock, what):
    if not sock.poll(TIMEOUT * 1000):
        fail("no answer: " + what)
    _, parts = session.feed_identities(sock.recv_multipart())
    return session.deserialize(parts)


def main(path):
    info = json.load(open(path))
    kc = BlockingKernelClient(connection_file=path)
    kc.load_connection_file()
    kc.start_channels()
    try:
        # wait_for_ready needs the kernel_info reply *and* an iopub message.
        kc.wait_for_ready(timeout=TIMEOUT)
        print("wait_for_ready ok")

        reply = kc.kernel_info(reply=True, timeout=TIMEOUT)
        validate_message(reply, "kernel_info_reply", None)
        if reply["content"]["status"] != "ok" or reply["header"]["version"] != "5.5":
            fail("kernel_info_reply %r" % reply)
        print("kernel_info ok:", reply["content"]["language_info"]["name"])

        # input(): jupyter_client's input_reply carries no parent header.
        msg_id = kc.execute("input", allow_stdin=True)
        req = kc.get_stdin_msg(timeout=TIMEOUT)
        if req["header"]["msg_type"] != "input_request" or req["parent_header"]["msg_id"] != msg_id:
            fail("input_request %r" % req)
        kc.input("Ada")
        while True:
            reply = kc.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        validate_message(reply, "execute_reply", msg_id)
        texts = []
        while True:
            msg = kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            validate_message(msg)
            if msg["msg_type"] == "stream":
                texts.append(msg["content"]["text"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        if texts != ["hello Ada"]:
            fail("stream output %r" % texts)
        print("input ok")

        ctx = zmq.Context.instance()
        session = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])

        hb = ctx.socket(zmq.REQ)
        hb.linger = 0
        hb.connect(endpoint(info, info["hb_port"]))
        for ping in (b"ping", b"\x00\xff"):
            hb.send(ping)
            if not hb.poll(TIMEOUT * 1000) or hb.recv() != ping:
                fail("heartbeat did not echo %r" % ping)
        print("heartbeat ok")

        # Like KernelManager's own control socket: a DEALER with no identity.
        control = ctx.socket(zmq.DEALER)
        control.linger = 0
        control.connect(endpoint(info, info["control_port"]))
        sent = session.send(control, "interrupt_request", {})
        reply = recv(session, control, "interrupt_request")
        validate_message(reply, "interrupt_reply", sent["header"]["msg_id"])
        print("identity-less control ok")

        sent = session.send(control, "shutdown_request", {"restart": False})
        reply = recv(session, control, "shutdown_request")
        validate_message(reply, "shutdown_reply", sent["header"]["msg_id"])
        print("shutdown ok")
    finally:
        kc.stop_channels()
    print("ALL OK")


if __name__ == "__main__":
    main(sys.argv[1])
