# Setup (boardsetup/wlan.go): waits up to `ms` milliseconds for the station interface to
# join its network and prints one line: "ok ADDRESS", "wrong-password", "no-ap", "handshake",
# "timeout STATUS" or "failed STATUS". The status names are the network module's own,
# since their numbers differ between ports (ESP32 201/202, ESP8266 3/2).


def _webrepl_op(ms):
    network = __import__('network')
    time = __import__('time')
    w = network.WLAN(network.STA_IF)
    words = {}
    # An ESP32 given a wrong key often reports the handshake timing out instead.
    named = (('STAT_WRONG_PASSWORD', 'wrong-password'), ('STAT_NO_AP_FOUND', 'no-ap'))
    named += (('STAT_HANDSHAKE_TIMEOUT', 'handshake'),)
    for name, word in named:
        if hasattr(network, name):
            words[getattr(network, name)] = word
    waiting = [getattr(network, n) for n in ('STAT_IDLE', 'STAT_CONNECTING') if hasattr(network, n)]
    start = time.ticks_ms()
    got = getattr(network, 'STAT_GOT_IP', None)
    while True:
        s = w.status()
        if s == got or w.isconnected():
            print('ok', w.ifconfig()[0])
            return
        if s in words:
            print(words[s])
            return
        if s not in waiting:
            print('failed', s)
            return
        if time.ticks_diff(time.ticks_ms(), start) > ms:
            print('timeout', s)
            return
        time.sleep_ms(100)
