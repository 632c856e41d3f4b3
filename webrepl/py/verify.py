# File operation (files.go): after a put or a get, print 'sha256 HEX' of
# the file at path, or 'size N' where hashlib has no sha256.


def _webrepl_op(path):
    try:
        digest = __import__('hashlib').sha256()
    except (ImportError, AttributeError):
        print('size', __import__('os').stat(path)[6])
        return
    f = open(path, 'rb')
    try:
        while True:
            chunk = f.read(512)
            if not chunk:
                break
            digest.update(chunk)
    finally:
        f.close()
    print('sha256', __import__('binascii').hexlify(digest.digest()).decode())
