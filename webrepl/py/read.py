# File transfer over the raw REPL (files_repl.go): print the file at path
# in base64 lines of n bytes each, read n bytes at a time, so the board
# never holds more than one chunk.


def _webrepl_op(path, n):
    f = open(path, 'rb')
    b = __import__('binascii').b2a_base64
    w = __import__('sys').stdout.write
    try:
        while True:
            d = f.read(n)
            if not d:
                break
            w(b(d))
    finally:
        f.close()
