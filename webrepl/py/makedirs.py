# File operation (atomic.go): create folder and the folders above it that
# are missing; print each one created, outermost first.


def _webrepl_op(folder):
    os = __import__('os')
    parts = folder.split('/')
    path = ''
    for i, part in enumerate(parts):
        path = path + '/' + part if i else part
        if not part:
            continue
        try:
            if not os.stat(path)[0] & 0x4000:
                raise OSError(20)
        except OSError as e:
            if e.errno != 2 and e.args[0] != 2:
                raise
            os.mkdir(path)
            print(path)
