# File operation (atomic.go): tidy folder after a transfer that was cut off.
# A temporary file (name ending in .wk-tmp) is removed: it was never
# renamed, so the file it was meant to replace is intact. A backup
# '.NAME.wk-old' is what commit.py made of the old NAME just before it put
# the new one in place: when NAME exists the switch happened and the backup
# goes; when it does not, the cut came between the two renames and the
# backup becomes NAME again. Prints one line per file it changed.


def _webrepl_op(folder):
    os = __import__('os')
    prefix = '' if folder in ('', '.') else folder.rstrip('/') + '/'
    names = [e[0] for e in os.ilistdir(folder or '.')]
    for name in names:
        if name.endswith('.wk-tmp'):
            os.remove(prefix + name)
            print('removed', prefix + name)
    for name in names:
        if name[:1] == '.' and name.endswith('.wk-old') and len(name) > 8:
            final = name[1:-7]
            if final in names:
                os.remove(prefix + name)
            else:
                os.rename(prefix + name, prefix + final)
                print('restored', prefix + final)
