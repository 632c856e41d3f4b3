# The board's esp32 module: the sensors and sleep settings lessons touch.

import time as _time, math as _math

HEAP_DATA = 4
HEAP_EXEC = 1
WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True


def mcu_temperature():
    return 42 + int(2 * _math.sin(_time.ticks_ms() / 60000))


def raw_temperature():
    return int(mcu_temperature() * 9 / 5 + 32)


def wake_on_touch(wake):
    pass


def wake_on_ext0(pin, level):
    pass


def wake_on_ext1(pins, level):
    pass


def idf_heap_info(capabilities):
    return [(240000, 200000, 110000, 190000)]
