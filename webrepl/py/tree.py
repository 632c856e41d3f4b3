# File operation (sync.go): every entry below folder, depth first, one a
# line: its path relative to folder in hex, its type (0x4000 a folder) and
# its size; -1 when folder does not exist.


def _webrepl_op(folder):
    os = __import__('os')
    hexlify = __import__('binascii').hexlify
    try:
        os.stat(folder)
    except OSError:
        print('-1')
        return
    todo = ['']
    while todo:
        rel = todo.pop()
        here = folder.rstrip('/') + '/' + rel if rel else folder
        for e in os.ilistdir(here):
            path = rel + '/' + e[0] if rel else e[0]
            if e[1] == 0x4000:
                todo.append(path)
                size = -1
            else:
                size = os.stat(folder.rstrip('/') + '/' + path)[6]
            print(hexlify(path.encode()).decode(), e[1], size)
