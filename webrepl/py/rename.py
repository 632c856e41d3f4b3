# File transfer over the raw REPL (files_repl.go): put the checked
# temporary file in place of the file it was written for.


def _webrepl_op(old, new):
    __import__('os').rename(old, new)
