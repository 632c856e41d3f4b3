# mip (atomic.go, BoardInfo): the bytecode version of .mpy files this
# firmware loads (sys.implementation._mpy & 0xff, 0 when it says none) and
# the first absolute folder on sys.path that ends in /lib (as mip installs
# there), else /lib.

try:
    print(__import__('sys').implementation._mpy & 0xff)
except AttributeError:
    print(0)
print(([p for p in __import__('sys').path if p[:1] == '/' and p.endswith('/lib') and not p.startswith('/rom')] + ['/lib'])[0])
