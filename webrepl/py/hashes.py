# File operation (atomic.go): for each path, one line: 'sha256 HEX' of the
# file, 'size N' where hashlib has no sha256, or '-' when there is no file.


def _webrepl_op(*paths):
    os = __import__('os')
    try:
        sha = __import__('hashlib').sha256
    except (ImportError, AttributeError):
        sha = None
    hexlify = __import__('binascii').hexlify
    buf = bytearray(512)
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            print('-')
            continue
        if st[0] & 0x4000:
            print('-')
        elif sha is None:
            print('size', st[6])
        else:
            digest = sha()
            f = open(path, 'rb')
            try:
                while True:
                    n = f.readinto(buf)
                    if not n:
                        break
                    digest.update(buf if n == len(buf) else buf[:n])
            finally:
                f.close()
            print('sha256', hexlify(digest.digest()).decode())
