# The board's machine module: Pin, PWM, ADC, TouchPad, RTC, WDT, Timer, freq, reset ...
# Pin and PWM changes are reported to the Go side (_board.peripheral), where tests observe
# them. board.py runs this with _timerq, the board's timers.TimerQueue, as a global.

import time as _time, math as _math, json as _json
import _board


def _peripheral(**kw):
    _board.peripheral(_json.dumps(kw))


_valid_pins = set(list(range(0, 20)) + [21, 22, 23, 25, 26, 27] + list(range(32, 40)))
_pins = {}

# The light sensor (docs/protocol/simulator.md §2): a photoresistor on ADC pin 34 that sees
# the board's LED on GPIO 2, as on a typical ESP32 dev board. _drive holds how brightly each
# output pin drives its load (0.0 to 1.0): PWM duty/1023, or 1.0 for a GPIO set high. The
# most recent of Pin and PWM to configure a pin decides, as the ESP32's pin matrix does.
LED_PIN = 2
LIGHT_PIN = 34
_drive = {}
_noise = [0x2545F491]


def _light_noise():
    # xorshift32: a little noise, -1.0 to 1.0, without needing the random module.
    x = _noise[0]
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    _noise[0] = x
    return (x & 0xFFFF) / 32767.5 - 1.0


def _light_level():
    # 2% of full scale in the dark, 98% with the LED fully on, +-1% noise.
    return 0.02 + 0.96 * _drive.get(LED_PIN, 0.0) + 0.01 * _light_noise()

def _pin_id(p):
    if isinstance(p, Pin):
        return p._id
    if isinstance(p, int):
        return p
    raise TypeError("can't convert %s to int" % type(p).__name__)

class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2
    PULL_HOLD = 4
    IRQ_RISING = 1
    IRQ_FALLING = 2
    WAKE_LOW = 4
    WAKE_HIGH = 5
    DRIVE_0 = 0
    DRIVE_1 = 1
    DRIVE_2 = 2
    DRIVE_3 = 3

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=None, hold=None):
        n = _pin_id(id)
        if n not in _valid_pins:
            raise ValueError('invalid pin')
        self._id = n
        # Every Pin object for one GPIO shares its state, as on the board.
        self._s = _pins.setdefault(n, {'mode': None, 'pull': None, 'value': None, 'irq': None})
        self.init(mode, pull, value=value, drive=drive, hold=hold)

    def init(self, mode=-1, pull=-1, *, value=None, drive=None, hold=None):
        if mode is not None and mode != -1:
            if mode not in (Pin.IN, Pin.OUT, Pin.OPEN_DRAIN):
                raise ValueError('invalid pin mode: %d' % mode)
            if mode != Pin.IN and self._id >= 34:
                raise ValueError('pin can only be input')
            self._s['mode'] = mode
            if mode == Pin.IN:
                _drive.pop(self._id, None)
            else:
                _drive[self._id] = 1.0 if self._s['value'] else 0.0
        if pull != -1:
            self._s['pull'] = pull
        if value is not None:
            self._set(value)
        return None

    def _set(self, v):
        v = 1 if v else 0
        if self._s['mode'] != Pin.IN:
            _drive[self._id] = float(v)
        if v != self._s['value']:
            self._s['value'] = v
            _peripheral(pin=self._id, value=v)

    def value(self, *args):
        if args:
            self._set(args[0])
            return None
        if self._s['mode'] in (Pin.OUT, Pin.OPEN_DRAIN) and self._s['value'] is not None:
            return self._s['value']
        if self._s['pull'] == Pin.PULL_UP:
            return 1
        if self._s['mode'] is None and self._s['value'] is not None:
            return self._s['value']
        return 0

    def __call__(self, *args):
        return self.value(*args)

    def on(self):
        self._set(1)

    def off(self):
        self._set(0)

    def toggle(self):
        self._set(0 if self.value() else 1)

    def irq(self, handler=None, trigger=3, *, wake=None, hard=False):
        self._s['irq'] = (handler, trigger)
        return None

    def __repr__(self):
        return 'Pin(%d)' % self._id

def _pwm_freq_ok(f):
    if not (1 <= f <= 40000000):
        raise ValueError('frequency must be from 1Hz to 40MHz')

class PWM:
    def __init__(self, dest, freq=None, duty=None, *, duty_u16=None, duty_ns=None, invert=False):
        self._pin = _pin_id(dest)
        if self._pin not in _valid_pins:
            raise ValueError('invalid pin')
        self._freq = 5000
        self._duty = 512
        self.init(freq=freq, duty=duty, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, *, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=False):
        if freq is not None:
            _pwm_freq_ok(freq)
            self._freq = freq
        if duty is not None:
            self._duty = min(max(int(duty), 0), 1023)
        if duty_u16 is not None:
            self._duty = min(max(int(duty_u16), 0), 65535) * 1023 // 65535
        if duty_ns is not None:
            self._duty = min(max(int(duty_ns * self._freq * 1024 // 1000000000), 0), 1023)
        self._report()

    def _report(self):
        _drive[self._pin] = self._duty / 1023
        _peripheral(pwm=self._pin, freq=self._freq, duty=self._duty)

    def freq(self, f=None):
        if f is None:
            return self._freq
        _pwm_freq_ok(f)
        self._freq = f
        self._report()

    def duty(self, d=None):
        if d is None:
            return self._duty
        self._duty = min(max(int(d), 0), 1023)
        self._report()

    def duty_u16(self, d=None):
        if d is None:
            return self._duty * 65535 // 1023
        self._duty = min(max(int(d), 0), 65535) * 1023 // 65535
        self._report()

    def duty_ns(self, d=None):
        if d is None:
            return self._duty * 1000000000 // (self._freq * 1024)
        self._duty = min(max(int(d * self._freq * 1024 // 1000000000), 0), 1023)
        self._report()

    def deinit(self):
        _drive.pop(self._pin, None)
        _peripheral(pwm=self._pin, freq=0, duty=0, deinit=True)

    def __repr__(self):
        return 'PWM(Pin(%d), freq=%d, duty=%d)' % (self._pin, self._freq, self._duty)

_adc_pins = set([0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39])

class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_9BIT = 9
    WIDTH_10BIT = 10
    WIDTH_11BIT = 11
    WIDTH_12BIT = 12

    def __init__(self, pin, *, atten=None):
        self._pin = _pin_id(pin)
        if self._pin not in _adc_pins:
            raise ValueError('invalid Pin for ADC')
        self._atten = 0 if atten is None else atten
        self._width = 12

    def _level(self):
        if self._pin == LIGHT_PIN:
            return _light_level()
        # A slowly varying signal (period ~6 s), different per pin: something to plot.
        t = _time.ticks_ms() / 1000
        return 0.5 + 0.45 * _math.sin(t + self._pin)

    def read_u16(self):
        return int(self._level() * 65535)

    def read(self):
        return int(self._level() * ((1 << self._width) - 1))

    def read_uv(self):
        return int(self._level() * 3300000)

    def atten(self, a):
        self._atten = a

    def width(self, w):
        self._width = w

    def __repr__(self):
        return 'ADC(Pin(%d))' % self._pin

class TouchPad:
    def __init__(self, pin):
        self._pin = _pin_id(pin)

    def read(self):
        return 600

    def config(self, value):
        pass

class RTC:
    def __init__(self, id=0):
        pass

    def datetime(self, dt=None):
        if dt is not None:
            return None
        t = _time.localtime()
        return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)

    def init(self, dt=None):
        pass

class WDT:
    def __init__(self, id=0, timeout=5000):
        self._timeout = timeout

    def feed(self):
        pass

class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, *args, **kw):
        self._id = id
        self._callback = None
        self._mode = Timer.PERIODIC
        self._period = 0
        self._due = 0
        if args or kw:
            self.init(*args, **kw)

    def init(self, *, mode=PERIODIC, period=-1, freq=-1, callback=None, tick_hz=1000):
        if freq > 0:
            period_ms = 1000 / freq
        elif period >= 0:
            period_ms = period * 1000 / tick_hz
        else:
            raise ValueError('period or freq required')
        self._mode = mode
        self._period = max(1, int(period_ms))
        self._callback = callback
        self._due = _time.ticks_add(_time.ticks_ms(), self._period)
        _timerq.add(self)

    def deinit(self):
        _timerq.remove(self)

    def value(self):
        if self not in _timerq.active:
            return 0
        return max(0, _time.ticks_diff(self._due, _time.ticks_ms()))

    def _fire(self, now):
        if self._mode == Timer.PERIODIC:
            # Keep the rhythm; skip periods that were missed while busy.
            self._due = _time.ticks_add(self._due, self._period)
            if _time.ticks_diff(self._due, now) <= 0:
                self._due = _time.ticks_add(now, self._period)
        else:
            _timerq.remove(self)
        if self._callback is not None:
            self._callback(self)

    def __repr__(self):
        return 'Timer(%d; alarm_en=%d, auto_reload=%d, counter_en=1)' % (
            self._id, 1 if self in _timerq.active else 0, 1 if self._mode == Timer.PERIODIC else 0)


_freq = [160000000]

def freq(f=None):
    if f is None:
        return _freq[0]
    if f not in (20000000, 40000000, 80000000, 160000000, 240000000):
        raise ValueError('frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz')
    _freq[0] = f

def reset():
    _board.hard_reset()

def soft_reset():
    raise SystemExit

def deepsleep(ms=0):
    _board.hard_reset()

def lightsleep(ms=0):
    _time.sleep_ms(ms)

def idle():
    pass

def unique_id():
    return b'\x24\x0a\xc4\x5e\x1a\x7c'

def reset_cause():
    return PWRON_RESET

def wake_reason():
    return 0

def disable_irq():
    return 0

def enable_irq(state=0):
    pass

def time_pulse_us(pin, pulse_level, timeout_us=1000000):
    return -1

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
PIN_WAKE = 2
TIMER_WAKE = 4
