# File transfer over the raw REPL (files_repl.go): after a write that failed
# or was stopped, close the file if _webrepl_w still holds it and remove the
# temporary path, so nothing half-written is left.


def _webrepl_op(path):
    w = globals().get('_webrepl_w')
    if w:
        try:
            w('')
        except Exception:
            globals().pop('_webrepl_w', None)
    try:
        __import__('os').remove(path)
    except OSError:
        pass
