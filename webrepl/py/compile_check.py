# File operation (atomic.go): compile the staged Python file tmp under the
# name it will have, before it replaces that file. Prints 'ok', 'unchecked
# REASON' when the board cannot compile it (no compile(), or not the memory
# to hold the source), or 'syntax' and the error as the board prints it (its
# File "NAME", line N and the message); the temporary is then removed.


def _webrepl_op(tmp, name):
    gc = __import__('gc')
    try:
        compile
    except NameError:
        print('unchecked the firmware has no compile()')
        return
    gc.collect()
    try:
        f = open(tmp)
        try:
            src = f.read()
        finally:
            f.close()
        code = compile(src, name, 'exec')
    except MemoryError:
        print('unchecked not enough memory to compile it on the board')
        return
    except SyntaxError as e:
        src = code = None
        __import__('os').remove(tmp)
        print('syntax')
        __import__('sys').print_exception(e)
        return
    src = code = None
    gc.collect()
    print('ok')
