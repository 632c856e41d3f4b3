# Compiles and exercises every file of the simulated board's Python (sim/board/py) under a
# real MicroPython without the board around it: boardpy.test.mjs runs it under the
# simulator's own interpreter (MicroPython's WebAssembly port) and under ../shared/realmp's
# unix-port micropython, as
#
#     micropython exercise.py PY_DIR WORK_DIR
#
# or, with no arguments, by calling main(py_dir, work_dir). WORK_DIR is an empty folder for
# scratch files. A fake _board module stands in for the worker (boardpy.mjs), so the parts
# run as board.py runs them, each in its own namespace, and what they report is checked.
# Every file must have an exercise below, or be named in COMPILE_ONLY with the reason.

import sys
import os
import json
import time
import builtins

# Files whose behaviour needs the board around them; the board tests (sim/board/test/,
# sim/*_test.go) run them on every boot.
COMPILE_ONLY = {
    'board.py': 'remounts the file system and installs the other parts',
}


class FakeBoard:
    # Stands in for the _board module of boardpy.mjs and records what the parts ask of it.
    source_name = '<board>'

    def __init__(self, py_dir, port='esp32', version='1.28.0'):
        self.py_dir = py_dir
        self.port = port
        self.version = version
        self.webrepl_off = False  # webrepl.start() turns WebREPL on (sim --serial)
        self.wifi = ''  # the simulated network, JSON [ssid, key, address], or '' (any joins)
        self.lines = []  # what readline() returns next
        self.peripherals = []
        self.sleeps = []
        self.hard_resets = 0

    def source(self, path):
        with open(self.py_dir + '/' + path) as f:
            return f.read()

    def readline(self):
        return self.lines.pop(0)

    def sleep_ms(self, ms):
        self.sleeps.append(ms)
        time.sleep_ms(int(ms))
        return 0

    def peripheral(self, text):
        self.peripherals.append(json.loads(text))

    def hard_reset(self):
        self.hard_resets += 1


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc:
        return True
    return False


class Run:
    def __init__(self, py_dir, work_dir):
        self.py_dir = py_dir
        self.work_dir = work_dir
        self.board = FakeBoard(py_dir)
        sys.modules['_board'] = self.board
        self.timerq = None

    def load(self, path, **names):
        names['__name__'] = path
        exec(compile(self.board.source(path), self.py_dir + '/' + path, 'exec'), names)
        return names

    def module(self, name):
        return self.load('modules/%s.py' % name, _timerq=self.queue())

    def queue(self):
        if self.timerq is None:
            self.timerq = self.load('timers.py')['TimerQueue']()
        return self.timerq

    # ------------------------------------------------------------------ parts

    def console(self):
        ns = self.load('console.py')
        line = ns['syntax_error_line']
        check(line('x = 1\nprint(x)\n') == 0, 'a valid program has no syntax error line')
        check(line('x = 1\ny = = 2\nz = 3\n') == 2, 'the error is on line 2: %r' % line('x = 1\ny = = 2\nz = 3\n'))
        check(line('if x:\n') > 1, 'a block without a body ends past the last line')
        board_input = ns['input']
        self.board.lines = ['typed', None, -1]
        check(board_input() == 'typed', 'input() returns the line readline gave')
        check(raises(KeyboardInterrupt, board_input), 'Ctrl-C in input() is KeyboardInterrupt')
        check(raises(EOFError, board_input), 'Ctrl-D in input() is EOFError')
        stand_in = ns['Builtins']()
        check(stand_in.input is board_input, 'builtins.input is the board input()')
        check(stand_in.len is len and stand_in.print is print, 'other builtins pass through')
        # A name assigned to builtins is found by every name lookup (reads of the real
        # module's attributes look in its fixed table only).
        stand_in.board_exercise_name = 5
        check(eval('board_exercise_name') == 5, 'assignments reach the real builtins')
        del stand_in.board_exercise_name
        check(raises(NameError, eval, 'board_exercise_name'), 'deletions reach the real builtins')
        check(repr(stand_in) == "<module 'builtins'>", 'repr is the module\'s')

    def startup(self):
        run = self.load('startup.py')['run_boot_file']
        path = self.work_dir + '/boot_exercise.py'
        check(run(self.work_dir + '/missing.py', {}) == 0, 'a missing boot file counts as run')
        cases = (('x = 6 * 7\n', 0), ("raise ValueError('from boot')\n", 1), ('raise SystemExit\n', 2))
        print('startup.py: a traceback of ValueError: from boot follows, as it should')
        for src, want in cases:
            with open(path, 'w') as f:
                f.write(src)
            g = {}
            got = run(path, g)
            check(got == want, 'run_boot_file(%r) = %r, want %r' % (src, got, want))
            if want == 0:
                check(g['x'] == 42, 'the boot file runs in the globals given')
        os.remove(path)

    def timers(self):
        ns = self.load('timers.py')
        q = ns['TimerQueue']()
        check(q.next_in() == -1 and q.run_idle() == -1, 'no timer: nothing is due')

        fired = []

        class Stub:
            def __init__(self, due_in):
                self._due = time.ticks_add(time.ticks_ms(), due_in)

            def _fire(self, now):
                q.remove(self)
                fired.append(self)

        later, overdue = Stub(60000), Stub(-5)
        q.add(later)
        q.add(later)
        check(len(q.active) == 1, 'a timer is queued once')
        check(0 < q.next_in() <= 60000, 'next_in counts down to the next timer')
        q.add(overdue)
        check(q.next_in() == 0, 'an overdue timer is due now')
        check(q.run_idle() > 0 and fired == [overdue], 'run_idle fires what is due, and only that')
        q.remove(later)

        names = ns['time_names'](q)
        check(names['ticks_ms'] is time.ticks_ms, 'the port\'s own time functions are kept')
        self.board.sleeps = []
        names['sleep_ms'](3)
        names['sleep'](0.004)
        names['sleep_us'](2000)
        check(self.board.sleeps == [3, 4.0, 2.0], 'sleeps wait through _board.sleep_ms: %r' % self.board.sleeps)
        check(raises(TypeError, names['sleep_ms'], 'x'), 'a bad argument is the port\'s error')

    def system(self):
        ns = self.load('system.py')
        uname = ns['os_names']('esp8266', '1.27.0')['uname']()
        check(uname[0] == 'esp8266' and uname[1] == 'esp8266' and uname[2] == '1.27.0', 'uname %r' % (uname,))
        check(uname.sysname == 'esp8266' and 'ESP8266' in uname.machine, 'uname fields %r' % (uname,))
        own = '%d.%d.%d' % sys.implementation.version[:3]
        check(ns['os_names']('esp32', '')['uname']().release == own, 'no modelled release: the interpreter\'s')
        check(ns['make_sys']('') is None, 'no modelled release: sys stays')
        board_sys = ns['make_sys']('9.8.7')
        check(board_sys.implementation.version[:3] == (9, 8, 7), 'sys.implementation.version')
        check(board_sys.implementation.name == sys.implementation.name, 'sys.implementation.name')
        check('v9.8.7' in board_sys.version and board_sys.platform == sys.platform, 'sys.version %r' % board_sys.version)
        check(repr(board_sys) == "<module 'sys'>", 'repr is the module\'s')

    def vmprobe(self):
        ns = self.load('vmprobe.py')
        ns['raise_once']()  # nothing pending: returns
        ns['set_interrupt_char'](3)

    # ------------------------------------------------------------------ modules

    def machine(self):
        m = self.module('machine')
        b = self.board
        b.peripherals = []
        p = m['Pin'](2, m['Pin'].OUT)
        p.on()
        check(b.peripherals[-1] == {'pin': 2, 'value': 1}, 'Pin.on() is reported: %r' % b.peripherals)
        check(p.value() == 1 and m['Pin'](2).value() == 1, 'Pin objects for one GPIO share their state')
        p.toggle()
        check(p() == 0 and b.peripherals[-1] == {'pin': 2, 'value': 0}, 'toggle')
        check(raises(ValueError, m['Pin'], 34, m['Pin'].OUT), 'GPIO 34 is input only')
        check(raises(ValueError, m['Pin'], 99), 'no GPIO 99')
        pwm = m['PWM'](m['Pin'](5), freq=1000, duty=512)
        check(b.peripherals[-1] == {'pwm': 5, 'freq': 1000, 'duty': 512}, 'PWM is reported: %r' % b.peripherals[-1])
        check(pwm.duty_u16() == 512 * 65535 // 1023, 'duty_u16')
        check(raises(ValueError, pwm.freq, 0), 'PWM frequency range')
        adc = m['ADC'](m['Pin'](34))
        check(0 <= adc.read() <= 4095 and 0 <= adc.read_u16() <= 65535, 'ADC range')
        check(raises(ValueError, m['ADC'], m['Pin'](1)), 'GPIO 1 has no ADC')
        self.light_sensor(m)
        check(m['freq']() == 160000000, 'freq')
        m['freq'](240000000)
        check(m['freq']() == 240000000 and raises(ValueError, m['freq'], 1), 'freq set')
        check(len(m['unique_id']()) == 6, 'unique_id')
        check(raises(SystemExit, m['soft_reset']), 'soft_reset')
        m['reset']()
        check(b.hard_resets == 1, 'reset() asks for a hard reset')
        fired = []
        t = m['Timer'](0)
        t.init(mode=m['Timer'].ONE_SHOT, period=60000, callback=fired.append)
        check(t in self.queue().active and repr(t).startswith('Timer(0; alarm_en=1'), 'Timer %r' % t)
        check(fired == [] and 0 < t.value() <= 60000, 'a Timer waits for its period')
        t._due = time.ticks_add(time.ticks_ms(), -1)  # overdue, without waiting for it
        sleeps = self.load('timers.py')['time_names'](self.queue())
        sleeps['sleep_ms'](1)
        check(fired == [t] and t not in self.queue().active, 'a one-shot Timer fires during a sleep')
        check(m['RTC']().datetime()[0] >= 2000, 'RTC')

    def light_sensor(self, m):
        # ADC pin 34 sees the LED on GPIO 2: 2% of full scale dark, 98% lit, +-1% noise.
        light = m['ADC'](m['Pin'](m['LIGHT_PIN']))
        check(m['LIGHT_PIN'] == 34 and m['LED_PIN'] == 2, 'the light sensor is on 34, the LED on 2')

        def level():
            samples = [light.read_u16() / 65535 for _ in range(16)]
            check(max(samples) - min(samples) <= 0.021, 'noise stays within 1%%: %r' % samples)
            return sum(samples) / len(samples)

        def near(got, want, what):
            check(abs(got - want) <= 0.011, '%s: light %.4f, want %.4f +- 1%%' % (what, got, want))

        led = m['Pin'](m['LED_PIN'], m['Pin'].IN)
        near(level(), 0.02, 'an undriven LED pin is dark')
        samples = set(light.read_u16() for _ in range(8))
        check(len(samples) > 1, 'the sensor is noisy: %r' % samples)
        pwm = m['PWM'](led, freq=1000, duty=0)
        near(level(), 0.02, 'duty 0')
        for duty in (256, 512, 1023):
            pwm.duty(duty)
            near(level(), 0.02 + 0.96 * duty / 1023, 'duty %d' % duty)
        pwm.duty_u16(32768)
        near(level(), 0.02 + 0.96 * pwm.duty() / 1023, 'duty_u16(32768)')
        check(0.49 <= level() <= 0.51, 'half duty is half light')
        check(abs(light.read() / 4095 - level()) <= 0.021, 'read() follows too')
        pwm.deinit()
        near(level(), 0.02, 'a pin no longer driven by PWM is dark')
        led.init(m['Pin'].OUT, value=1)
        near(level(), 0.98, 'an LED switched fully on')
        led.off()
        near(level(), 0.02, 'an LED switched off')
        # Other ADC pins keep the slowly varying signal, whatever the LED does.
        import math
        other = m['ADC'](m['Pin'](35))
        lit = m['PWM'](led, duty=1023)
        want = 0.5 + 0.45 * math.sin(time.ticks_ms() / 1000 + 35)
        check(abs(other.read_u16() / 65535 - want) <= 0.01, 'pin 35 reads the slow signal, not the light')
        lit.deinit()

    def network(self):
        n = self.module('network')
        w = n['WLAN'](n['STA_IF'])
        check(not w.active() and raises(OSError, w.connect, 'x', 'y'), 'connect needs an active interface')
        w.active(True)
        w.connect('SimulatedWiFi', 'secret')
        check(w.isconnected() and w.status() == n['STAT_GOT_IP'], 'connected')
        check(w.ifconfig()[0] == '192.168.1.42' and w.config('ssid') == 'SimulatedWiFi', 'ifconfig, config')
        check(len(w.scan()) == 2, 'scan')
        n['hostname']('lesson')
        check(n['hostname']() == 'lesson', 'hostname')
        check(raises(ValueError, n['WLAN'], 7), 'bad interface')
        w.active(False)
        check(not w.isconnected(), 'inactive is disconnected')
        # A simulated network (sim --wifi): only its name and key join, at its address.
        self.board.wifi = json.dumps(['HomeNet', 'hunter22', '127.0.0.1'])
        n = self.module('network')
        w = n['WLAN'](n['STA_IF'])
        w.active(True)
        w.connect('HomeNet', 'wrong')
        check(not w.isconnected() and w.status() == n['STAT_WRONG_PASSWORD'], 'a wrong key: %r' % w.status())
        w.connect('Elsewhere', 'hunter22')
        check(w.status() == n['STAT_NO_AP_FOUND'], 'an unknown network: %r' % w.status())
        check(w.ifconfig()[0] == '0.0.0.0', 'no address before joining')
        w.connect('HomeNet', 'hunter22')
        check(w.isconnected() and w.status() == n['STAT_GOT_IP'], 'the right key joins')
        check(w.ifconfig()[0] == '127.0.0.1', 'the address the host chose: %r' % (w.ifconfig(),))
        check([a[0] for a in w.scan()] == [b'HomeNet'], 'scan sees the one network')
        self.board.wifi = ''

    def webrepl(self):
        class Namespace:
            def __init__(self, names):
                for k in names:
                    setattr(self, k, names[k])

        sys.modules['network'] = Namespace(self.module('network'))
        w = self.module('webrepl')
        sent = self.board.peripherals
        del sent[:]
        w['start']()
        w['stop']()
        check(sent == [], 'a board whose WebREPL serves from boot: start() and stop() do nothing')
        self.board.webrepl_off = True
        sys.modules.pop('webrepl_cfg', None)
        w['start']()
        check(sent == [{'webrepl': None}], 'without webrepl_cfg WebREPL stays off: %r' % sent)
        w['start'](password='x')
        check(sent[-1] == {'webrepl': 'x'}, 'a password given starts it')
        sys.modules['webrepl_cfg'] = Namespace({'PASS': 'fromcfg'})
        w['start']()
        check(sent[-1] == {'webrepl': 'fromcfg'}, 'webrepl_cfg.PASS starts it: %r' % sent)
        w['stop']()
        check(sent[-1] == {'webrepl': None}, 'stop')
        del sys.modules['webrepl_cfg']
        del sys.modules['network']
        self.board.webrepl_off = False

    def esp(self):
        e = self.module('esp')
        e['osdebug'](None)
        check(e['flash_size']() == 4194304, 'flash_size')

    def esp32(self):
        e = self.module('esp32')
        check(40 <= e['mcu_temperature']() <= 44, 'mcu_temperature')
        check(type(e['raw_temperature']()) is int, 'raw_temperature')
        check(len(e['idf_heap_info'](e['HEAP_DATA'])) == 1, 'idf_heap_info')

    def neopixel(self):
        m = self.module('machine')
        n = self.module('neopixel')
        strip = n['NeoPixel'](m['Pin'](5), 2)
        strip[1] = (0, 0, 255)
        self.board.peripherals = []
        strip.write()
        check(self.board.peripherals == [{'neopixel': 5, 'pixels': [[0, 0, 0], [0, 0, 255]]}], 'write %r' % self.board.peripherals)
        strip.fill((1, 2, 3))
        check(len(strip) == 2 and strip[0] == (1, 2, 3), 'fill')

    def dht(self):
        d = self.module('dht')
        s22 = d['DHT22'](4)
        s22.measure()
        check(20 <= s22.temperature() <= 24 and 39 <= s22.humidity() <= 51, 'DHT22 %r %r' % (s22.temperature(), s22.humidity()))
        s11 = d['DHT11'](4)
        s11.measure()
        check(type(s11.temperature()) is int and type(s11.humidity()) is int, 'DHT11 gives integers')


def sources(py_dir, rel=''):
    # Every .py file below py_dir, as paths relative to it.
    found = []
    for name in sorted(os.listdir(py_dir + '/' + rel if rel else py_dir)):
        path = rel + '/' + name if rel else name
        if os.stat(py_dir + '/' + path)[0] & 0x4000:
            found += sources(py_dir, path)
        elif name.endswith('.py'):
            found.append(path)
    return found


def main(py_dir, work_dir):
    files = sources(py_dir)
    check(files, 'no board sources in %s' % py_dir)
    for path in files:
        with open(py_dir + '/' + path) as f:
            compile(f.read(), py_dir + '/' + path, 'exec')
    run = Run(py_dir, work_dir)
    exercised = 0
    try:
        for path in files:
            if path in COMPILE_ONLY:
                continue
            name = path.split('/')[-1][:-3]
            part = getattr(run, name, None)
            check(part is not None, '%s has no exercise in sim/board/test/py/exercise.py' % path)
            part()
            exercised += 1
    finally:
        del sys.modules['_board']
    print('board python: %d files compiled, %d exercised' % (len(files), exercised))


if __name__ == '__main__' and len(sys.argv) == 3:
    main(sys.argv[1], sys.argv[2])
