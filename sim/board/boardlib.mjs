// Python side of the simulated ESP32: the board modules MicroPython's WebAssembly port
// lacks (machine with Timer, network, esp, esp32, dht, neopixel, webrepl, an os with
// uname, a time whose sleeps run timers), input() on the board console, boot.py/main.py
// and the flash mount. worker.mjs runs this once at boot in its own namespace, compiled
// under boardSourceName, and hides traceback lines from that file, because on a real
// board these functions are C code and leave no frame.
//
// The modules are placed straight into sys.modules, so they are importable everywhere but
// are not files on the board's flash.

export const boardSourceName = '<board>';

// Bootstrap: flash mount, input(), the syntax checker for raw-paste, module setup.
export const boardLibSource = String.raw`
import sys, io, json, os as _os, time as _time, builtins
import _board

# The flash: MEMFS /flash becomes the board's "/" (the port's own /tmp, /dev ... vanish).
_os.umount('/')
_os.mount(_os.VfsPosix('/flash'), '/')
_os.chdir('/')


def _syntax_error_line(src):
    # Line of the SyntaxError that compiling src raises, 0 if none (raw-paste early end).
    try:
        compile(src, '<stdin>', 'exec')
        return 0
    except SyntaxError as e:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        line = 0
        for part in buf.getvalue().split('line ')[1:]:
            digits = ''
            for ch in part:
                if '0' <= ch <= '9':
                    digits += ch
                else:
                    break
            if digits:
                line = int(digits)
        return line
    except Exception:
        return 0


_board.set_syntax_checker(_syntax_error_line)


def _input(prompt=None):
    if prompt is not None:
        print(prompt, end='')
    line = _board.readline()
    if line is None:
        raise KeyboardInterrupt
    if line == -1:
        raise EOFError
    return line


builtins.input = _input


class _Builtins:
    # Stands in for the builtins module in sys.modules. Assigning builtins.input (above)
    # only changes what the name input finds: attribute reads of the real module look in
    # its fixed table first, so builtins.input stayed the port's own input(), which spins
    # in C without ever reading the console. Reads of this stand-in give the board's
    # input(); everything else, and every assignment, goes to the real module, so
    # builtins.print = f still changes print for all code.
    input = staticmethod(_input)

    def __getattr__(self, name):
        return getattr(builtins, name)

    def __setattr__(self, name, value):
        setattr(builtins, name, value)

    def __delattr__(self, name):
        delattr(builtins, name)

    def __dir__(self):
        return dir(builtins)

    def __repr__(self):
        return "<module 'builtins'>"


sys.modules['builtins'] = _Builtins()


def _run_boot_file(path, main_globals):
    # boot.py / main.py at start-up, like pyexec_file: the traceback names the file.
    # Returns 0 (ran), 1 (raised; traceback printed) or 2 (SystemExit: soft reset).
    import micropython
    try:
        with open(path) as f:
            src = f.read()
    except OSError:
        return 0
    micropython.kbd_intr(3)
    try:
        exec(compile(src, path, 'exec'), main_globals)
        for _ in range(1):
            pass  # a backward jump: a Ctrl-C still pending is raised here, not in the REPL
        return 0
    except SystemExit:
        return 2
    except BaseException as e:
        sys.print_exception(e)
        return 1
    finally:
        micropython.kbd_intr(-1)


_board.set_boot_runner(_run_boot_file)


class _Module:
    # A namespace standing in for a built-in module.
    def __init__(self, name, names):
        self._name = name
        for k in names:
            if not k.startswith('_'):
                setattr(self, k, names[k])

    def __repr__(self):
        return "<module '%s'>" % self._name


# ---------------------------------------------------------------------- os

def _os_module():
    names = {}
    for k in dir(_os):
        if not k.startswith('__'):
            names[k] = getattr(_os, k)
    try:
        from collections import namedtuple
        uname_result = namedtuple('uname_result', ('sysname', 'nodename', 'release', 'version', 'machine'))
    except ImportError:
        uname_result = None
    release = _board.version or '%d.%d.%d' % sys.implementation.version[:3]
    # The port the simulator models (sim --profile): clients identify the
    # board by os.uname().sysname, as on a real ESP32/ESP8266.
    port = _board.port
    values = (port, port, release,
              'v%s (webrepl-kernel simulator)' % release,
              '%s simulator (webrepl-kernel) with %s' % (port.upper(), port.upper()))

    def uname():
        if uname_result is None:
            return values
        return uname_result(*values)

    names['uname'] = uname
    return _Module('os', names)


# ---------------------------------------------------------------------- timers

class _TimerQueue:
    # machine.Timer callbacks. A board runs them from its scheduler; here they run while
    # the program sleeps (time.sleep* below) and while the REPL waits for input (the
    # worker calls run_idle). A program that computes without sleeping delays them, as a
    # busy scheduler would.
    def __init__(self):
        self.active = []

    def add(self, timer):
        if timer not in self.active:
            self.active.append(timer)

    def remove(self, timer):
        if timer in self.active:
            self.active.remove(timer)

    def next_in(self):
        # Milliseconds until the next timer is due (0 if overdue), -1 if none is active.
        if not self.active:
            return -1
        now = _time.ticks_ms()
        return max(0, min(_time.ticks_diff(t._due, now) for t in self.active))

    def run_due(self):
        now = _time.ticks_ms()
        for t in list(self.active):
            if t in self.active and _time.ticks_diff(t._due, now) <= 0:
                t._fire(now)

    def run_idle(self):
        # Called by the worker while the REPL waits; returns next_in() for its wait.
        try:
            self.run_due()
        except Exception as e:
            sys.print_exception(e)
        return self.next_in()


_timerq = _TimerQueue()
_board.set_timer_hooks(_timerq.run_idle, _timerq.next_in)


def _time_module():
    names = {}
    for k in dir(_time):
        if not k.startswith('__'):
            names[k] = getattr(_time, k)

    def wait_ms(ms):
        # _board.sleep_ms returns what is left when a Ctrl-C cut the wait short; the jump
        # back in this loop is where the VM raises the KeyboardInterrupt, inside the
        # sleep like on a board, so a try around the sleep catches it.
        left = ms
        while left > 0:
            left = _board.sleep_ms(left)

    def sleep_ms(ms):
        if type(ms) is not int:
            return _time.sleep_ms(ms)  # the port's own error for a bad argument
        if not _timerq.active:
            return wait_ms(ms)
        end = _time.ticks_add(_time.ticks_ms(), ms)
        while True:
            _timerq.run_due()
            left = _time.ticks_diff(end, _time.ticks_ms())
            if left <= 0:
                return
            nxt = _timerq.next_in()
            wait_ms(left if nxt < 0 else min(left, max(nxt, 1)))

    def sleep(s):
        if type(s) is not int and type(s) is not float:
            return _time.sleep(s)
        if not _timerq.active:
            return wait_ms(s * 1000)
        sleep_ms(int(s * 1000))

    def sleep_us(us):
        if type(us) is not int or us < 1000:
            return _time.sleep_us(us)
        if not _timerq.active:
            return wait_ms(us / 1000)
        sleep_ms(us // 1000)

    names['sleep'] = sleep
    names['sleep_ms'] = sleep_ms
    names['sleep_us'] = sleep_us
    return _Module('time', names)


def _make_module(name, src):
    names = {'__name__': name, '_timerq': _timerq}
    exec(compile(src, _board.source_name, 'exec'), names)
    sys.modules[name] = _Module(name, names)


_make_module('machine', _board.machine_source)
_make_module('network', _board.network_source)
for _name, _src in json.loads(_board.extra_modules).items():
    _make_module(_name, _src)
sys.modules['os'] = _os_module()


def _sys_module():
    # sys as the modelled firmware shows it (sim --firmware): sys.implementation and
    # sys.version name that release; everything else is the interpreter's own sys, and
    # assignments go to it.
    release = _board.version
    if not release:
        return None
    impl = sys.implementation
    version = tuple(int(x) for x in release.split('.')) + tuple(impl.version[3:])
    try:
        from collections import namedtuple
        fields = [f for f in ('name', 'version', '_machine', '_mpy', '_build') if hasattr(impl, f)]
        implementation = namedtuple('', fields)(*[version if f == 'version' else getattr(impl, f) for f in fields])
    except ImportError:
        implementation = impl
    own = '%d.%d.%d' % impl.version[:3]

    class _Sys:
        def __getattr__(self, name):
            return getattr(sys, name)

        def __setattr__(self, name, value):
            setattr(sys, name, value)

        def __dir__(self):
            return dir(sys)

        def __repr__(self):
            return "<module 'sys'>"

    _Sys.implementation = implementation
    _Sys.version = sys.version.replace('v' + own, 'v' + release)
    return _Sys()


if _sys_module() is not None:
    sys.modules['sys'] = _sys_module()
sys.modules['time'] = _time_module()
# import utime would otherwise find the port's built-in time, whose sleeps ignore Ctrl-C.
sys.modules['utime'] = sys.modules['time']
`;

// machine: Pin, PWM, ADC ... with pin and PWM changes reported to the Go side.
export const machineSource = String.raw`
import time as _time, math as _math, json as _json
import _board


def _peripheral(**kw):
    _board.peripheral(_json.dumps(kw))


_valid_pins = set(list(range(0, 20)) + [21, 22, 23, 25, 26, 27] + list(range(32, 40)))
_pins = {}

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
        if pull != -1:
            self._s['pull'] = pull
        if value is not None:
            self._set(value)
        return None

    def _set(self, v):
        v = 1 if v else 0
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
`;

// network: WLAN that is always in range of a friendly access point.
export const networkSource = String.raw`
STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_BEACON_TIMEOUT = 200
STAT_ASSOC_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204
AUTH_OPEN = 0
AUTH_WEP = 1
AUTH_WPA_PSK = 2
AUTH_WPA2_PSK = 3
AUTH_WPA_WPA2_PSK = 4
MODE_11B = 1
MODE_11G = 2
MODE_11N = 4

_state = {
    STA_IF: {'active': False, 'connected': False, 'ssid': '', 'mac': b'\x24\x0a\xc4\x5e\x1a\x7c',
             'ifconfig': ('192.168.1.42', '255.255.255.0', '192.168.1.1', '192.168.1.1'),
             'channel': 1, 'hostname': 'esp32', 'security': AUTH_WPA_WPA2_PSK, 'key': ''},
    AP_IF: {'active': False, 'connected': False, 'ssid': 'ESP_5E1A7D', 'mac': b'\x24\x0a\xc4\x5e\x1a\x7d',
            'ifconfig': ('192.168.4.1', '255.255.255.0', '192.168.4.1', '0.0.0.0'),
            'channel': 1, 'hostname': 'esp32', 'security': AUTH_OPEN, 'key': ''},
}
_hostname = ['esp32']

class WLAN:
    IF_STA = STA_IF
    IF_AP = AP_IF
    PM_NONE = 0
    PM_PERFORMANCE = 1
    PM_POWERSAVE = 2

    def __init__(self, interface_id=STA_IF):
        if interface_id not in (STA_IF, AP_IF):
            raise ValueError('invalid WLAN interface identifier')
        self._if = interface_id
        self._s = _state[interface_id]

    def active(self, is_active=None):
        if is_active is None:
            return self._s['active']
        self._s['active'] = bool(is_active)
        if not is_active:
            self._s['connected'] = False
        return None

    def connect(self, ssid=None, key=None, *, bssid=None):
        if self._if != STA_IF:
            raise OSError('AP does not support connect')
        if not self._s['active']:
            raise OSError('Wifi Not Started')
        self._s['ssid'] = ssid or ''
        self._s['connected'] = True

    def disconnect(self):
        self._s['connected'] = False

    def isconnected(self):
        if self._if == AP_IF:
            return False
        return self._s['active'] and self._s['connected']

    def status(self, param=None):
        if param == 'rssi':
            return -58
        if param == 'stations':
            return []
        if param is not None:
            raise ValueError('unknown status param')
        if self._if == STA_IF and self.isconnected():
            return STAT_GOT_IP
        return STAT_IDLE

    def scan(self):
        if not self._s['active']:
            raise OSError('Wifi Not Started')
        return [(b'SimulatedWiFi', b'\x02\x00\x00\x00\x00\x01', 6, -58, AUTH_WPA2_PSK, False),
                (b'Neighbours', b'\x02\x00\x00\x00\x00\x02', 11, -81, AUTH_WPA_WPA2_PSK, False)]

    def ifconfig(self, config=None):
        if config is None:
            if self._if == STA_IF and not self.isconnected():
                return ('0.0.0.0', '0.0.0.0', '0.0.0.0', '0.0.0.0')
            return self._s['ifconfig']
        if config == 'dhcp':
            return None
        if len(config) != 4:
            raise ValueError('expected a 4-tuple')
        self._s['ifconfig'] = tuple(config)

    def ipconfig(self, *args, **kw):
        if kw:
            return None
        if args and args[0] == 'addr4':
            c = self.ifconfig()
            return (c[0], c[1])
        raise ValueError('unknown config param')

    def config(self, *args, **kw):
        if kw:
            for k in kw:
                if k in ('ssid', 'essid'):
                    self._s['ssid'] = kw[k]
                elif k in ('key', 'password'):
                    self._s['key'] = kw[k]
                elif k in ('channel', 'hostname', 'security', 'authmode'):
                    self._s['security' if k == 'authmode' else k] = kw[k]
                elif k in ('mac', 'reconnects', 'txpower', 'pm', 'max_clients', 'hidden', 'dhcp_hostname', 'protocol'):
                    pass
                else:
                    raise ValueError('unknown config param')
            return None
        if len(args) != 1:
            raise TypeError('can query only one param')
        p = args[0]
        if p in ('ssid', 'essid'):
            return self._s['ssid']
        if p == 'mac':
            return self._s['mac']
        if p in ('channel', 'hostname', 'security'):
            return self._s[p]
        if p == 'authmode':
            return self._s['security']
        if p == 'txpower':
            return 20
        if p == 'pm':
            return WLAN.PM_PERFORMANCE
        if p in ('dhcp_hostname',):
            return _hostname[0]
        raise ValueError('unknown config param')

    def __repr__(self):
        return '<WLAN>'

def hostname(name=None):
    if name is None:
        return _hostname[0]
    _hostname[0] = name

def country(code=None):
    if code is None:
        return 'XX'

def phy_mode(mode=None):
    if mode is None:
        return MODE_11N

`;

// Smaller ESP32 modules that lessons and boot.py files copied from a board import.
export const extraModules = {
  // WebREPL itself is the Go side's job; boot.py files call webrepl.start().
  webrepl: String.raw`
def start(port=8266, password=None, accept_handler=None):
    pass


def stop():
    pass


def start_foreground(port=8266, password=None):
    pass
`,
  esp: String.raw`
LOG_NONE = 0
LOG_ERROR = 1
LOG_WARNING = 2
LOG_INFO = 3
LOG_DEBUG = 4
LOG_VERBOSE = 5


def osdebug(uart_no, level=LOG_ERROR):
    pass


def flash_size():
    return 4194304


def flash_user_start():
    return 2097152


def gpio_matrix_in(*args):
    pass


def gpio_matrix_out(*args):
    pass
`,
  esp32: String.raw`
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
`,
  neopixel: String.raw`
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
`,
  dht: String.raw`
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
`,
};
