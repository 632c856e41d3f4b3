# File operation (atomic.go): remove staged temporary files that are there.


def _webrepl_op(*names):
    os = __import__('os')
    for name in names:
        try:
            os.remove(name)
        except OSError:
            pass
