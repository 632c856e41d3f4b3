# What the board reports about itself: os.uname() names the modelled port and release, and
# sys.implementation/sys.version the modelled release (sim --profile, sim --firmware),
# while the language underneath stays the interpreter's own. board.py installs both.

import sys
import os


def os_names(port, release):
    # The names of the board's os module: the interpreter's own os plus uname(). port is
    # the port modelled ('esp32', 'esp8266'); release the firmware's, or '' for the
    # interpreter's own.
    names = {}
    for k in dir(os):
        if not k.startswith('__'):
            names[k] = getattr(os, k)
    try:
        from collections import namedtuple
        uname_result = namedtuple('uname_result', ('sysname', 'nodename', 'release', 'version', 'machine'))
    except ImportError:
        uname_result = None
    release = release or '%d.%d.%d' % sys.implementation.version[:3]
    # Clients identify the board by os.uname().sysname, as on a real ESP32/ESP8266.
    values = (port, port, release,
              'v%s (webrepl-kernel simulator)' % release,
              '%s simulator (webrepl-kernel) with %s' % (port.upper(), port.upper()))

    def uname():
        if uname_result is None:
            return values
        return uname_result(*values)

    names['uname'] = uname

    port_rename = os.rename

    def rename(old, new):
        # The interpreter's VfsPosix, mounted with a root (board.py), loses the old path
        # when both are absolute (fixed upstream after v1.28: extmod/vfs_posix.c, "Fix
        # renaming with a non-empty VFS root"); an ESP32's littlefs or FAT renames them.
        # The old path goes relative to the current folder, which that code keeps as is.
        if old[:1] == '/' and new[:1] == '/':
            depth = len([p for p in os.getcwd().split('/') if p])
            old = '../' * depth + old[1:]
        port_rename(old, new)

    names['rename'] = rename
    return names


def make_sys(release):
    # sys as the modelled firmware shows it: sys.implementation and sys.version name that
    # release; everything else is the interpreter's own sys, and assignments go to it.
    # None when no release is modelled ('').
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
