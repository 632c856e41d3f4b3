# Entry point of the simulated board's Python side, run once at boot by the worker (through
# boardpy.mjs) in its own namespace. It mounts the flash, then installs the board's parts:
# input() and the raw-paste syntax check (console.py), the boot.py/main.py runner
# (startup.py), machine.Timer and the time module (timers.py), the os and sys the board
# reports (system.py), the board modules in modules/ (machine, network, esp, ...), and the
# probe the ESP8266 VM hook runs at boot (vmprobe.py).
#
# Every part is compiled under _board.source_name, so that output.mjs can hide traceback
# lines pointing into it: on a real board these functions are C code and leave no frame.
# The parts only define things; the wiring (registering hooks with _board, replacing
# entries of sys.modules) is all here, which lets tests exercise each part on its own.
#
# What the host decides at run time (the port and release modelled, the sources
# themselves) comes in as data from the _board module, never as code.
#
# The modules are placed straight into sys.modules, so they are importable everywhere but
# are not files on the board's flash.

import sys
import os
import builtins
import _board

# The flash: MEMFS /flash becomes the board's "/" (the port's own /tmp, /dev ... vanish).
os.umount('/')
os.mount(os.VfsPosix('/flash'), '/')
os.chdir('/')


def load(path, names):
    # Runs the board source at path (below sim/board/py) in names and returns names.
    exec(compile(_board.source(path), _board.source_name, 'exec'), names)
    return names


class Module:
    # A namespace standing in for a built-in module.
    def __init__(self, name, names):
        self._name = name
        for k in names:
            if not k.startswith('_'):
                setattr(self, k, names[k])

    def __repr__(self):
        return "<module '%s'>" % self._name


console = load('console.py', {'__name__': 'console'})
_board.set_syntax_checker(console['syntax_error_line'])
builtins.input = console['input']
sys.modules['builtins'] = console['Builtins']()

startup = load('startup.py', {'__name__': 'startup'})
_board.set_boot_runner(startup['run_boot_file'])

timers = load('timers.py', {'__name__': 'timers'})
timerq = timers['TimerQueue']()
_board.set_timer_hooks(timerq.run_idle, timerq.next_in)

for name in ('machine', 'network', 'webrepl', 'esp', 'esp32', 'neopixel', 'dht'):
    sys.modules[name] = Module(name, load('modules/%s.py' % name, {'__name__': name, '_timerq': timerq}))

system = load('system.py', {'__name__': 'system'})
sys.modules['os'] = Module('os', system['os_names'](_board.port, _board.version))
board_sys = system['make_sys'](_board.version)
if board_sys is not None:
    sys.modules['sys'] = board_sys
sys.modules['time'] = Module('time', timers['time_names'](timerq))
# import utime would otherwise find the port's built-in time, whose sleeps ignore Ctrl-C.
sys.modules['utime'] = sys.modules['time']

vmprobe = load('vmprobe.py', {'__name__': 'vmprobe'})
_board.set_vm_probe(vmprobe['raise_once'], vmprobe['set_interrupt_char'])
