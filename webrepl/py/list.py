# File operation (files.go): one line per entry of folder: its name in hex
# (any bytes survive), its type and its size (-1 for a folder). Boards whose
# ilistdir gives no size are asked with stat.


def _webrepl_op(folder):
    os = __import__('os')
    hexlify = __import__('binascii').hexlify
    for entry in os.ilistdir(folder):
        size = entry[3] if len(entry) > 3 else -1
        if size < 0 and entry[1] != 0x4000:
            size = os.stat(folder.rstrip('/') + '/' + entry[0])[6]
        print(hexlify(entry[0].encode()).decode(), entry[1], size)
