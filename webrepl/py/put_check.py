# File operation (files.go): look before a put of size bytes to path, in
# folder ('' for the current one). A failed open() or write() during the
# transfer drops the whole session, so this raises OSError first: 20 when
# folder is not a folder, 21 when path is one, 28 when the file system has
# not the room (statvfs: block size x blocks available; the old file's blocks
# come back when it is overwritten). A board without statvfs skips that.


def _webrepl_op(folder, path, size):
    os = __import__('os')
    if folder and not os.stat(folder)[0] & 0x4000:
        raise OSError(20)
    try:
        old = os.stat(path)
    except OSError:
        old = (0,) * 7
    if old[0] & 0x4000:
        raise OSError(21)
    try:
        fs = os.statvfs(folder or '.')
        free = fs[0] * fs[4]
    except Exception:
        free = -1
    if 0 <= free < size - old[6]:
        raise OSError(28)
