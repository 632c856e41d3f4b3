# File operation (files.go): remove a file, or an empty folder.


def _webrepl_op(path):
    os = __import__('os')
    if os.stat(path)[0] & 0x4000:
        os.rmdir(path)
    else:
        os.remove(path)
