# After login (boardinfo.go, readIdentity), once per boot: what the board
# says it is, kept in its RAM after the session marker so that every later
# connection reads it with the marker (py/hello.py) and need not ask again.
# Prints, and leaves in sys.modules under key, the marker line and four more:
# os.uname()'s sysname, version and machine, and machine.unique_id() in hex;
# '?' for each the board does not have (the unix port has no os.uname).


def _webrepl_op(key):
    import sys
    lines = [sys.modules[key].split('\n')[0]]
    try:
        u = __import__('os').uname()
        lines += [u[0], u[3], u[4]]
    except Exception:
        lines += ['?', '?', '?']
    try:
        lines.append(__import__('binascii').hexlify(__import__('machine').unique_id()).decode())
    except Exception:
        lines.append('?')
    sys.modules[key] = '\n'.join(str(line) for line in lines)
    print(sys.modules[key])
