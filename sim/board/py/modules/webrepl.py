# The board's webrepl module. The WebREPL server itself is the Go side's (sim/loop.go).
# On a board whose WebREPL serves from boot (the default) start() and stop() do nothing, so
# boot.py files copied from a board run silently. On a fresh board (sim --serial,
# _board.webrepl_off) start() tells the Go side, through _board.peripheral, to serve with a
# password, as MicroPython's extmod/webrepl/webrepl.py start() does: with password=None the
# password is webrepl_cfg.PASS (the file webrepl_setup writes), and without that file
# WebREPL stays off.

import json as _json
import _board


def _tell(**kw):
    _board.peripheral(_json.dumps(kw))


def start(port=8266, password=None, accept_handler=None):
    if not _board.webrepl_off:
        return
    stop()
    if password is None:
        try:
            import webrepl_cfg

            password = webrepl_cfg.PASS
        except Exception:
            print("WebREPL is not configured, run 'import webrepl_setup'")
            return
        mode = 'normal'
    else:
        mode = 'manual override'
    _tell(webrepl=str(password))
    import network

    for i in (network.AP_IF, network.STA_IF):
        iface = network.WLAN(i)
        if iface.active():
            print("WebREPL daemon started on ws://%s:%d" % (iface.ifconfig()[0], port))
    print("Started webrepl in %s mode" % mode)


def stop():
    if _board.webrepl_off:
        _tell(webrepl=None)


def start_foreground(port=8266, password=None):
    start(port, password)
