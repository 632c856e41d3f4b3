# The board's dht module: DHT11/DHT22 sensors in a room that slowly warms and cools.

import time as _time, math as _math


class _DHTBase:
    def __init__(self, pin):
        self.pin = pin
        self._t = 0
        self._h = 0

    def measure(self):
        # A room that slowly warms and cools (period ~10 minutes).
        phase = _time.ticks_ms() / 95000
        self._t = 22.0 + 1.5 * _math.sin(phase)
        self._h = 45.0 + 5.0 * _math.cos(phase)


class DHT11(_DHTBase):
    def temperature(self):
        return int(self._t)

    def humidity(self):
        return int(self._h)


class DHT22(_DHTBase):
    def temperature(self):
        return round(self._t, 1)

    def humidity(self):
        return round(self._h, 1)
