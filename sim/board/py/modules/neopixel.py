# The board's neopixel module: write() reports the pixels to the Go side
# (_board.peripheral), where tests observe them.

import json as _json
import _board


class NeoPixel:
    ORDER = (1, 0, 2, 3)

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self._pixels = [(0,) * bpp for _ in range(n)]

    def __len__(self):
        return self.n

    def __setitem__(self, i, v):
        self._pixels[i] = tuple(v)

    def __getitem__(self, i):
        return self._pixels[i]

    def fill(self, v):
        for i in range(self.n):
            self._pixels[i] = tuple(v)

    def write(self):
        pin = self.pin._id if hasattr(self.pin, '_id') else self.pin
        _board.peripheral(_json.dumps({'neopixel': pin, 'pixels': [list(p) for p in self._pixels]}))
